"""What traffic looks like, against what the model was validated on (drift).

A profile: the cluster mix, the decision mix, and histograms (10 equal bins on [0, 1]) of the
cluster confidence, P(import) and the share of a title's words the model has never seen.
Training stores the validation set's profile beside the model (`reference_profile.json`); the
service exports the live equivalents as metrics and the population stability index (PSI) of a
recent window against the reference; `python -m training drift` does the same for a file of
decisions.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.screening.linear import LinearModel
from app.screening.normalize import normalize

PROFILE_FILE = "reference_profile.json"
PROFILE_VERSION = 1
BINS = tuple(i / 10 for i in range(11))  # edges: 10 equal bins on [0, 1]
HISTOGRAMS = ("cluster_confidence", "import_probability", "unknown_word_share")
MIXES = ("cluster", "decision")
FEATURES = HISTOGRAMS + MIXES
# PSI's usual reading: under 0.1 no shift, 0.1 to 0.25 a moderate one, above 0.25 a large one.
PSI_MODERATE, PSI_LARGE = 0.1, 0.25
_WORDS = re.compile(r"\w\w+")
_FLOOR = 1e-4  # a share of 0 would make PSI infinite: both sides are floored at this


class Vocabulary:
    """The words the model knows (its word vocabulary's single words)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = frozenset(words)

    @classmethod
    def of(cls, predictor: object) -> Vocabulary | None:
        """The compiled model's vocabulary; None for a scikit-learn fallback model."""
        if not isinstance(predictor, LinearModel):
            return None
        return cls(
            term
            for tok in predictor.tokenizers
            if tok.spec.kind == "word"
            for term in tok.terms
            if " " not in term
        )

    def unknown_share(self, title: str) -> float:
        """The share of the title's words (normalised, 2+ letters) the model never saw."""
        words = _WORDS.findall(normalize(title))
        if not words:
            return 0.0
        return sum(w not in self.words for w in words) / len(words)


def bin_index(value: float) -> int:
    """The bin of a value in [0, 1] (1.0 falls in the last bin)."""
    return min(max(int(value * 10), 0), 9)


def histogram(values: Iterable[float]) -> list[float]:
    """Shares per bin (they sum to 1; all 0 for no values)."""
    counts = np.bincount([bin_index(v) for v in values], minlength=10).astype(float)
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * 10


def mix(labels: Iterable[str], categories: Sequence[str]) -> dict[str, float]:
    counts = Counter(labels)
    total = sum(counts.values())
    return {c: (counts[c] / total if total else 0.0) for c in categories}


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of `actual` shares against `expected` ones."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, _FLOOR), max(a, _FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def profile(
    rows: Mapping[str, Sequence[Any]],
    *,
    clusters: Sequence[str],
    decisions: Sequence[str] = ("allow", "block", "review"),
    source: str = "",
) -> dict[str, Any]:
    """The profile of columns `cluster`, `decision`, `cluster_confidence`,
    `import_probability` and `unknown_word_share` (one value per listing)."""
    return {
        "version": PROFILE_VERSION,
        "source": source,
        "listings": len(rows["cluster"]),
        "bins": list(BINS),
        "cluster": mix(rows["cluster"], clusters),
        "decision": mix(rows["decision"], decisions),
        **{name: histogram(rows[name]) for name in HISTOGRAMS},
    }


def compare(reference: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, float]:
    """PSI per feature of a live profile against the reference."""
    out = {}
    for name in FEATURES:
        ref, now = reference[name], live[name]
        if isinstance(ref, Mapping):
            keys = sorted(ref)
            out[name] = psi([ref[k] for k in keys], [now.get(k, 0.0) for k in keys])
        else:
            out[name] = psi(ref, now)
    return out


def load_profile(model_dir: Path) -> dict[str, Any] | None:
    path = model_dir / PROFILE_FILE
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


class Window:
    """The last `size` listings' values, as a live profile (one worker's view)."""

    def __init__(self, size: int, clusters: Sequence[str]) -> None:
        self.clusters = list(clusters)
        self.rows: dict[str, deque[Any]] = {
            name: deque(maxlen=size) for name in (*HISTOGRAMS, *MIXES)
        }

    def add(self, **values: Any) -> None:
        for name, value in values.items():
            self.rows[name].append(value)

    def __len__(self) -> int:
        return len(self.rows["cluster"])

    def profile(self) -> dict[str, Any]:
        return profile({k: list(v) for k, v in self.rows.items()}, clusters=self.clusters)
