"""The transformer that turns listings into model text: the first step of every Pipeline.

It lives apart from `app.screening.normalize` so that serving a compiled model never imports
scikit-learn; pickled Pipelines refer to `app.screening.text.ListingText`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from app.screening.claims import NORMALIZER
from app.screening.normalize import compose


class ListingText(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Maps listings (mappings or objects with title/brand/category/description) to text.

    The first step of every model Pipeline, so the artifact carries its own preprocessing.
    """

    def __init__(
        self,
        *,
        fields: Sequence[str] = ("title", "brand", "category", "description"),
        max_chars: int = 500,
        quality_claims: bool = False,
        without_origin: bool = False,
        normalizer: int = NORMALIZER,
    ) -> None:
        self.fields = fields
        self.max_chars = max_chars
        self.quality_claims = quality_claims
        self.without_origin = without_origin
        self.normalizer = normalizer

    def fit(self, X: Iterable[Any], y: Any = None) -> ListingText:
        return self

    def transform(self, X: Iterable[Any]) -> np.ndarray:
        # Pickles made before an option existed have no attribute: it was off (revision 1).
        quality_claims = bool(getattr(self, "quality_claims", False))
        without_origin = bool(getattr(self, "without_origin", False))
        revision = int(getattr(self, "normalizer", 1))
        return np.array(
            [
                compose(
                    r,
                    self.fields,
                    self.max_chars,
                    quality_claims=quality_claims,
                    without_origin=without_origin,
                    revision=revision,
                )
                for r in X
            ],
            dtype=object,
        )
