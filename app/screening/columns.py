"""What `Screener.screen` answers: one batch's results as columns, position i for listing i.

The structure mirrors the `/v1` answer (`app.schemas.ScreenResult`): decisions, reasons and
versions for every listing, and the cluster and origin parts, which are None when the model
failed (every listing then has reason MODEL_ERROR, as a `/v1` row has null cluster and
origin). Each consumer reads the columns it needs: `/v1` builds its JSON rows from them
(`app.protocols.rows`), `/v2` and gRPC its tensors, `training screen` and the Spark job their
output rows, the metrics their counts. Probabilities are rounded to 6 decimals, as answered;
the policy decided on the unrounded ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The reasons an answer can give, in the order it lists them. Columns hold a listing's
# reasons as bit flags (bit i: REASONS[i]), so a batch's are set with a few array operations.
REASONS = (
    "SHADOW_MODE",
    "MODEL_ERROR",
    "PROTECTED_CLUSTER_IMPORT",
    "UNPROTECTED_CLUSTER",
    "DOMESTIC_ORIGIN",
    "LOW_BLOCK_PROBABILITY",
    "LOW_CONFIDENCE",
    "UNCERTAIN_CLUSTER",
    "UNCERTAIN_ORIGIN",
    "STRUCTURED_ORIGIN_EVIDENCE",
    "MARKETPLACE_MARKER",
)
FLAG = {name: 1 << i for i, name in enumerate(REASONS)}

# A listing's reasons by their flags; a batch holds a handful of distinct combinations.
_NAMES: dict[int, tuple[str, ...]] = {}


def reason_names(flags: int) -> tuple[str, ...]:
    """The reasons set in `flags`, in answer order."""
    names = _NAMES.get(flags)
    if names is None:
        names = _NAMES[flags] = tuple(r for i, r in enumerate(REASONS) if flags >> i & 1)
    return names


def reason_lists(flags: np.ndarray) -> list[tuple[str, ...]]:
    """`reason_names` of each element; equal combinations share one tuple."""
    return [reason_names(f) for f in flags.tolist()]


def round6(values: np.ndarray) -> np.ndarray:
    """Each value as Python's `round(value, 6)` gives it, vectorised.

    numpy's own rounding scales by 1e6 first, so a value within about 1e-10 of a half-way
    point can round the other way; those few are rounded one by one as Python does.
    """
    scaled = values * 1e6
    rounded = np.rint(scaled)
    out: np.ndarray = rounded / 1e6
    near = np.abs(scaled - rounded) > 0.5 - 1e-6
    if near.any():
        at = np.flatnonzero(near)
        out.reshape(-1)[at] = [round(v, 6) for v in values.reshape(-1)[at].tolist()]
    return out


@dataclass(frozen=True, slots=True, eq=False)
class ClusterColumns:
    names: tuple[str, ...]  # the model's cluster labels: the columns of `scores`
    labels: np.ndarray  # (n,) str: the predicted cluster, the first of equal maxima
    confidence: np.ndarray  # (n,) its probability
    scores: np.ndarray  # (n, len(names)) every cluster's probability
    evidence: list[list[str]]  # title terms that pushed the predicted cluster


@dataclass(frozen=True, slots=True, eq=False)
class OriginColumns:
    labels: np.ndarray  # (n,) str: "import" or "domestic"
    confidence: np.ndarray  # (n,) the probability of that label
    import_probability: np.ndarray  # (n,) 1.0 where a field or a title marker says import
    evidence: list[list[str]]  # structured fields, title markers, or title terms


@dataclass(frozen=True, slots=True, eq=False)
class ScreenColumns:
    listing_ids: list[str | None]
    decisions: np.ndarray  # (n,) str: "allow", "block" or "review"
    # In shadow mode, what enforce mode would have decided; None in enforce mode.
    shadow_decisions: np.ndarray | None
    reasons: np.ndarray  # (n,) bit flags of REASONS
    cluster: ClusterColumns | None  # None when the model failed
    origin: OriginColumns | None  # None when the model failed
    model_version: str
    policy_version: str

    def __len__(self) -> int:
        return len(self.listing_ids)

    @property
    def policy_mode(self) -> str:
        return "enforce" if self.shadow_decisions is None else "shadow"

    def enforce_decisions(self) -> np.ndarray:
        """What enforce mode decides: the decisions, or in shadow mode the shadow decisions."""
        return self.decisions if self.shadow_decisions is None else self.shadow_decisions

    def reason_lists(self) -> list[tuple[str, ...]]:
        return reason_lists(self.reasons)

    def cluster_labels(self, missing: str) -> list[str]:
        """Each listing's cluster, `missing` where the model failed."""
        if self.cluster is None:
            return [missing] * len(self)
        labels: list[str] = self.cluster.labels.tolist()
        return labels
