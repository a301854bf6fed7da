"""The screening policy: which clusters are protected and where block, review and allow begin."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

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
from app.screening.columns import FLAG

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "policies" / "default.yaml"

# Fixed probability bands, not policy settings: a label is the predicted one from LIKELY on,
# and a probability strictly inside UNCERTAIN (low, high) is named UNCERTAIN_* in a review.
LIKELY = 0.5
UNCERTAIN = (0.2, 0.8)


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

    def case(self, p_protected: Any, p_import: Any) -> Any:
        """What the rule reads of the probabilities, as one number (bit i: _CASE_BITS[i]);
        the same expression over floats (an int) and over arrays (an array of ints)."""
        p_block = p_protected * p_import
        t = self.thresholds
        low, high = UNCERTAIN
        return (
            (p_block >= t.block) * 1
            + (p_block <= t.allow) * 2  # never with the first: allow < block
            + (p_protected < LIKELY) * 4
            + (p_import < LIKELY) * 8
            + ((low < p_protected) & (p_protected < high)) * 16
            + ((low < p_import) & (p_import < high)) * 32
        )

    def decide(self, p_protected: float, p_import: float) -> Verdict:
        """The enforce-mode verdict for one listing, before shadow mode is applied."""
        verdict: Verdict = _VERDICTS[self.case(p_protected, p_import)]
        return verdict

    def decide_many(self, p_protected: np.ndarray, p_import: np.ndarray) -> Verdicts:
        """`decide` over arrays of probabilities, one element per listing."""
        if len(p_protected) == 1:
            return self.decide_one(p_protected.item(), p_import.item())
        case = self.case(p_protected, p_import)
        return Verdicts(_DECISIONS[case], _FLAGS[case])

    def decide_one(self, p_protected: float, p_import: float) -> Verdicts:
        """`decide_many` of one listing, the case read on Python floats: a numpy call costs
        more than its work on one element."""
        one = self.case(p_protected, p_import)
        return Verdicts(_DECISIONS[one : one + 1], _FLAGS[one : one + 1])


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Verdicts:
    decisions: np.ndarray  # (n,) str: "allow", "block" or "review"
    reasons: np.ndarray  # (n,) bit flags of app.screening.columns.REASONS


def _rule(case: int) -> Verdict:
    """The rule: a verdict from what `Policy.case` read of the probabilities."""
    block, allow, unprotected, domestic, uncertain_cluster, uncertain_origin = (
        bool(case >> i & 1) for i in range(6)
    )
    if block:
        return Verdict("block", ("PROTECTED_CLUSTER_IMPORT",))
    if allow:
        reasons = []
        if unprotected:
            reasons.append("UNPROTECTED_CLUSTER")
        if domestic:
            reasons.append("DOMESTIC_ORIGIN")
        return Verdict("allow", tuple(reasons) or ("LOW_BLOCK_PROBABILITY",))
    reasons = ["LOW_CONFIDENCE"]
    if uncertain_cluster:
        reasons.append("UNCERTAIN_CLUSTER")
    if uncertain_origin:
        reasons.append("UNCERTAIN_ORIGIN")
    return Verdict("review", tuple(reasons))


# The rule tabulated over every case: one listing looks its verdict up, a batch its columns.
_VERDICTS = [_rule(case) for case in range(64)]
_DECISIONS = np.array([v.decision for v in _VERDICTS])
_FLAGS = np.array([sum(FLAG[r] for r in v.reasons) for v in _VERDICTS], dtype=np.int64)


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
