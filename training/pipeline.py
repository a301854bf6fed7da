"""The model's scikit-learn Pipelines. Preprocessing lives inside them, so the artifact carries
it and serving cannot drift from training."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from app.screening.claims import NORMALIZER
from app.screening.text import ListingText

CLUSTER_FIELDS = ("title", "brand", "category", "description")
# The origin model reads no category: a category path says what a product is, not where from.
ORIGIN_FIELDS = ("title", "brand", "description")


@dataclass(frozen=True)
class Params:
    cluster_c: float = 3.0
    origin_c: float = 8.0
    word_max_features: int = 60_000
    char_max_features: int = 80_000
    char_ngrams: tuple[int, int] = (2, 5)
    # The cluster model reads the text without origin words (import, countries): what a
    # product is does not depend on where it comes from. Held-out shops, akar-1.4.0 vs 1.3.0:
    # macro-F1 0.891 -> 0.895, handicraft F1 0.62 -> 0.64 (80% of shops trained).
    cluster_without_origin: bool = True
    # Both models read an import word of a quality or style claim ("kualitas import", "import
    # quality", "model import") as one token, not as "import" (TAXONOMY: not evidence).
    quality_claims: bool = True
    # The revision of `normalize` both models read (2: leetspeak words of origin and quality
    # phrases spelled out in place, more countries; see app/screening/normalize.py).
    normalizer: int = NORMALIZER


def _features(params: Params) -> FeatureUnion:
    # The word block must come first: the service reads evidence terms from it by index.
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    ngram_range=(1, 2),
                    min_df=2,
                    sublinear_tf=True,
                    dtype=np.float64,
                    max_features=params.word_max_features,
                    token_pattern=r"(?u)\b\w\w+\b",
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=params.char_ngrams,
                    min_df=3,
                    sublinear_tf=True,
                    dtype=np.float64,
                    max_features=params.char_max_features,
                ),
            ),
        ]
    )


def build_pipelines(params: Params | None = None) -> dict[str, Pipeline]:
    params = params or Params()
    cluster = Pipeline(
        [
            (
                "text",
                ListingText(
                    fields=CLUSTER_FIELDS,
                    quality_claims=params.quality_claims,
                    without_origin=params.cluster_without_origin,
                    normalizer=params.normalizer,
                ),
            ),
            ("features", _features(params)),
            ("clf", LogisticRegression(C=params.cluster_c, max_iter=2000, class_weight="balanced")),
        ]
    )
    origin = Pipeline(
        [
            (
                "text",
                ListingText(
                    fields=ORIGIN_FIELDS,
                    quality_claims=params.quality_claims,
                    normalizer=params.normalizer,
                ),
            ),
            ("features", _features(params)),
            ("clf", LogisticRegression(C=params.origin_c, max_iter=2000, class_weight="balanced")),
        ]
    )
    return {"cluster": cluster, "origin": origin}


def strip_for_storage(pipelines: dict[str, Pipeline]) -> None:
    """Drops `stop_words_` (every pruned term, megabytes, only kept for introspection)."""
    for pipe in pipelines.values():
        for _, vec in pipe.named_steps["features"].transformer_list:
            if hasattr(vec, "stop_words_"):
                del vec.stop_words_
