"""The screening policy: which clusters are protected and where block, review and allow begin."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from app.errors import PolicyError
from app.schemas import ClusterLabel, Decision, PolicyMode
from app.screening.columns import FLAG, reason_names

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "policies" / "default.yaml"


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    block: float = Field(0.8, gt=0, le=1, description="p_block at or above this: block.")
    allow: float = Field(0.2, ge=0, lt=1, description="p_block at or below this: allow.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.allow >= self.block:
            raise ValueError(f"thresholds.allow ({self.allow}) must be below block ({self.block})")
        return self


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=100)
    mode: PolicyMode = "enforce"
    protected_clusters: tuple[ClusterLabel, ...] = ("culinary", "handicraft", "textile_fashion")
    thresholds: Thresholds = Thresholds()

    @field_validator("protected_clusters")
    @classmethod
    def _sorted_unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(v)))

    def decide_many(self, p_protected: np.ndarray, p_import: np.ndarray) -> Verdicts:
        """The enforce-mode verdicts, before shadow mode is applied: the one rule, over arrays
        of probabilities (one element per listing)."""
        p_block = p_protected * p_import
        block = p_block >= self.thresholds.block
        allow = ~block & (p_block <= self.thresholds.allow)
        review = ~(block | allow)  # also where a probability is NaN
        unprotected = allow & (p_protected < 0.5)
        domestic = allow & (p_import < 0.5)
        flags = (
            block * FLAG["PROTECTED_CLUSTER_IMPORT"]
            | unprotected * FLAG["UNPROTECTED_CLUSTER"]
            | domestic * FLAG["DOMESTIC_ORIGIN"]
            | (allow & ~unprotected & ~domestic) * FLAG["LOW_BLOCK_PROBABILITY"]
            | review * FLAG["LOW_CONFIDENCE"]
            | (review & (0.2 < p_protected) & (p_protected < 0.8)) * FLAG["UNCERTAIN_CLUSTER"]
            | (review & (0.2 < p_import) & (p_import < 0.8)) * FLAG["UNCERTAIN_ORIGIN"]
        )
        decisions = np.where(block, "block", np.where(allow, "allow", "review"))
        return Verdicts(decisions, flags.astype(np.int64))

    def decide(self, p_protected: float, p_import: float) -> Verdict:
        """The enforce-mode verdict for one listing (`decide_many` of one)."""
        v = self.decide_many(np.array([p_protected]), np.array([p_import]))
        decision: Decision = v.decisions[0].item()
        return Verdict(decision, reason_names(v.reasons[0].item()))


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Verdicts:
    decisions: np.ndarray  # (n,) str: "allow", "block" or "review"
    reasons: np.ndarray  # (n,) bit flags of app.screening.columns.REASONS


def load_policy(path: Path | None = None) -> Policy:
    """Reads a policy from YAML or JSON; raises PolicyError saying what is wrong."""
    path = path or DEFAULT_POLICY_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PolicyError(f"policy file {path} is not UTF-8: {exc.reason}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise PolicyError(f"policy file {path} is not valid {path.suffix[1:]}: {exc}") from exc
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"policy file {path} is invalid: {exc}") from exc
