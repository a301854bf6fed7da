"""A compiled Pipeline: which columns of its tokenisers' tables each vectoriser block reads,
how term counts are weighted, and the classifier (labels, fields, intercept, evidence columns).
`app.screening.pipelines.compile_pipelines` makes them from fitted scikit-learn Pipelines;
`app.screening.linear.LinearModel` predicts with them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.screening.claims import drop_origin_words
from app.screening.normalize import _field, compose

# 1 + log(count) for counts below 1,024 (index 0 is never read: counts start at 1).
_SUBLINEAR_TF = np.concatenate(([0.0], np.log(np.arange(1.0, 1024.0)) + 1.0))


@dataclass(frozen=True, slots=True)
class Block:
    """One vectoriser of a Pipeline's FeatureUnion, as columns of its tokeniser's table."""

    tokenizer: int
    norm_col: int  # term's squared idf, 0 for terms outside this vectoriser
    weight_cols: slice  # idf x coefficient, one column per score
    l2: bool


@dataclass(frozen=True, slots=True)
class TfWeighting:
    sublinear: bool
    binary: bool

    def apply(self, counts: np.ndarray) -> np.ndarray:
        if self.binary:
            return np.ones(len(counts))
        if self.sublinear and len(counts) and counts.max() < len(_SUBLINEAR_TF):
            # 1 + log(count) looked up: a title's counts are small integers.
            tf: np.ndarray = _SUBLINEAR_TF[counts]
            return tf
        tf = counts.astype(np.float64)
        if self.sublinear:
            np.log(tf, out=tf)
            tf += 1.0
        return tf


@dataclass(frozen=True, slots=True)
class LinearClassifier:
    """One Pipeline: listing fields -> text -> blocks -> logistic regression."""

    name: str
    labels: tuple[str, ...]
    fields: tuple[str, ...]
    max_chars: int
    quality_claims: bool  # import words of quality claims marked (see compose)
    without_origin: bool  # reads the text without its origin words (see compose)
    normalizer: int  # the revision of `normalize` it was trained with
    blocks: tuple[Block, ...]
    intercept: np.ndarray  # (k,), k = 1 for two labels
    # Evidence: the first block's columns holding idf x (the weight a person reads as "pushed
    # towards the label"): coefficients minus their mean over labels, or the one binary row.
    evidence_cols: slice

    @property
    def binary(self) -> bool:
        return len(self.labels) == 2

    def text(self, values: Mapping[str, str], memo: dict[tuple[Any, ...], str]) -> str:
        """The text this classifier reads of a listing's non-empty fields (`field_values`);
        `memo` shares the work between classifiers and between equal listings (a listing is
        normalised once)."""
        key = (
            self.max_chars,
            self.quality_claims,
            self.normalizer,
            *((f, v) for f in self.fields if (v := values.get(f))),
        )
        text = memo.get(key)
        if text is None:
            text = memo[key] = compose(
                values,
                self.fields,
                self.max_chars,
                quality_claims=self.quality_claims,
                revision=self.normalizer,
            )
        if not self.without_origin:
            return text
        without = memo.get((None, *key))
        if without is None:
            without = memo[None, *key] = drop_origin_words(text, self.normalizer)
        return without


def field_values(listing: Any, fields: Sequence[str]) -> dict[str, str]:
    """A listing's non-empty string fields among `fields` (a mapping or an object's
    attributes), read once for every classifier: compose() reads nothing else, so equal
    values, equal text."""
    return {f: v for f in fields if (v := _field(listing, f))}
