"""The two fitted Pipelines (cluster, origin) and how predictions and term evidence come out.

Each Pipeline is `ListingText -> FeatureUnion(words, chars) -> LogisticRegression`; the word
block comes first in the union, so a feature index below the word vocabulary size is a word
or word bigram that a person can read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from app.errors import ModelStoreError

CLUSTER_LABELS = ("textile_fashion", "culinary", "handicraft", "other")
PROTECTED_DEFAULT = ("textile_fashion", "culinary", "handicraft")
ORIGIN_LABELS = ("domestic", "import")
EVIDENCE_TERMS = 3
# A term must move the score by at least this much (log-odds) to be shown as evidence.
MIN_TERM_WEIGHT = 0.15


@dataclass(frozen=True, slots=True)
class Predictions:
    cluster_proba: np.ndarray  # (n, len(cluster_labels)), rows sum to 1
    import_proba: np.ndarray  # (n,)
    cluster_terms: list[list[str]]  # terms that pushed the predicted cluster
    origin_terms: list[list[str]]  # terms that pushed towards import


class _Explained:
    """A fitted text Pipeline split into features and classifier, with its word vocabulary."""

    def __init__(self, pipeline: Pipeline, name: str) -> None:
        try:
            self.features: Pipeline = pipeline[:-1]
            self.classifier: LogisticRegression = pipeline[-1]
            union: FeatureUnion = pipeline.named_steps["features"]
            words: TfidfVectorizer = union.transformer_list[0][1]
            self.words = np.array(words.get_feature_names_out(), dtype=object)
        except (KeyError, IndexError, AttributeError, TypeError) as exc:
            raise ModelStoreError(f"{name} pipeline does not have the expected steps") from exc
        self.classes = [str(c) for c in self.classifier.classes_]

    def transform(self, listings: Sequence[Any]) -> sparse.csr_matrix:
        return sparse.csr_matrix(self.features.transform(listings))

    def top_terms(
        self, x: sparse.csr_matrix, weights: np.ndarray, rows: np.ndarray
    ) -> list[list[str]]:
        """Per row i, the word features whose tf-idf times weights[rows[i]] is largest."""
        n_words = len(self.words)
        out: list[list[str]] = []
        for i in range(x.shape[0]):
            start, end = x.indptr[i], x.indptr[i + 1]
            idx, val = x.indices[start:end], x.data[start:end]
            keep = idx < n_words
            idx, val = idx[keep], val[keep]
            contrib = val * weights[rows[i], idx]
            order = np.argsort(-contrib)[:EVIDENCE_TERMS]
            out.append([str(self.words[idx[j]]) for j in order if contrib[j] >= MIN_TERM_WEIGHT])
        return out


class ScreeningModel:
    """Cluster and origin classifiers loaded from one artifact."""

    def __init__(self, pipelines: dict[str, Pipeline]) -> None:
        if not isinstance(pipelines, dict) or set(pipelines) != {"cluster", "origin"}:
            raise ModelStoreError("artifact must hold a dict with 'cluster' and 'origin' pipelines")
        self.cluster = _Explained(pipelines["cluster"], "cluster")
        self.origin = _Explained(pipelines["origin"], "origin")
        if sorted(self.cluster.classes) != sorted(CLUSTER_LABELS):
            raise ModelStoreError(f"cluster labels {self.cluster.classes} != {CLUSTER_LABELS}")
        if self.origin.classes != list(ORIGIN_LABELS):
            raise ModelStoreError(f"origin labels {self.origin.classes} != {ORIGIN_LABELS}")
        self.cluster_labels: list[str] = self.cluster.classes
        self.pipelines = pipelines
        # Evidence for a cluster: its coefficients minus the mean over clusters, so words
        # common to all clusters do not count.
        coef = self.cluster.classifier.coef_
        self._cluster_relative = coef - coef.mean(axis=0, keepdims=True)
        self._origin_coef = self.origin.classifier.coef_

    def predict(self, listings: Sequence[Any]) -> Predictions:
        """Vectorised over the whole sequence: one transform and one matrix product per model."""
        xc = self.cluster.transform(listings)
        cluster_proba = self.cluster.classifier.predict_proba(xc)
        cluster_terms = self.cluster.top_terms(
            xc, self._cluster_relative, cluster_proba.argmax(axis=1)
        )

        xo = self.origin.transform(listings)
        import_proba = self.origin.classifier.predict_proba(xo)[:, 1]
        origin_terms = self.origin.top_terms(
            xo, self._origin_coef, np.zeros(len(import_proba), dtype=np.intp)
        )
        return Predictions(cluster_proba, import_proba, cluster_terms, origin_terms)
