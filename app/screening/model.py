"""The two fitted Pipelines (cluster, origin) and how predictions and term evidence come out.

Each Pipeline is `ListingText -> FeatureUnion(words, chars) -> LogisticRegression`; the word
block comes first in the union, so a feature index below the word vocabulary size is a word
or word bigram that a person can read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from app.errors import ModelStoreError
from app.screening.fast import CompiledModel, Rows, UnsupportedPipeline

logger = logging.getLogger("akar_gate")

CLUSTER_LABELS = ("textile_fashion", "culinary", "handicraft", "other")
PROTECTED_DEFAULT = ("textile_fashion", "culinary", "handicraft")
ORIGIN_LABELS = ("domestic", "import")
EVIDENCE_TERMS = 3
# A term must move the score by at least this much (log-odds) to be shown as evidence.
MIN_TERM_WEIGHT = 0.15
# The compiled path must reproduce scikit-learn on these before it is used.
PROBE_LISTINGS: list[dict[str, str]] = [
    {"title": "Kemeja Batik Pria Lengan Panjang", "category": "fashion/pria/kemeja"},
    {"title": "keripik tempe khas malang 250gr", "brand": "Bu Rudy"},
    {"title": "Earphone Bluetooth IMPORT made in china", "description": "ready stok"},
    {"title": "1mp0rt k o r e a snack pedasss"},
    {"title": ""},
]
PROBE_TOLERANCE = 1e-9


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

    def rows(self, listings: Sequence[Any]) -> Rows:
        return Rows.from_csr(self.features.transform(listings))

    def top_terms(self, x: Rows, weights: np.ndarray, rows: np.ndarray) -> list[list[str]]:
        """Per row i, the word features whose tf-idf times weights[rows[i]] is largest.

        Vectorised over all rows; ties go to the lower feature index, so the answer does not
        depend on the sort algorithm numpy picks.
        """
        n = len(x.indptr) - 1
        if n == 1:
            return [self._top_terms_one(x, weights[rows[0]])]
        doc = np.repeat(np.arange(n), np.diff(x.indptr))
        keep = x.indices < len(self.words)
        doc, idx, val = doc[keep], x.indices[keep], x.data[keep]
        contrib = val * weights[rows[doc], idx]
        strong = contrib >= MIN_TERM_WEIGHT
        doc, idx, contrib = doc[strong], idx[strong], contrib[strong]
        order = np.lexsort((idx, -contrib, doc))
        doc, idx = doc[order], idx[order]
        # Rank of each entry within its row; the first EVIDENCE_TERMS of each row are shown.
        first = np.searchsorted(doc, doc, side="left")
        top = np.arange(len(doc)) - first < EVIDENCE_TERMS
        out: list[list[str]] = [[] for _ in range(n)]
        for d, term in zip(doc[top].tolist(), self.words[idx[top]].tolist(), strict=True):
            out[d].append(str(term))
        return out

    def _top_terms_one(self, x: Rows, weights: np.ndarray) -> list[str]:
        """`top_terms` of a one-row matrix, in fewer numpy calls (each costs a microsecond)."""
        keep = x.indices < len(self.words)
        idx = x.indices[keep]
        contrib = x.data[keep] * weights[idx]
        strong = contrib >= MIN_TERM_WEIGHT
        if not strong.any():
            return []
        idx, contrib = idx[strong], contrib[strong]
        order = np.lexsort((idx, -contrib))[:EVIDENCE_TERMS]
        return [str(term) for term in self.words[idx[order]].tolist()]


class ScreeningModel:
    """Cluster and origin classifiers loaded from one artifact.

    Predictions come from the Pipelines compiled into arrays (`app.screening.fast`) when their
    structure allows it and the compiled form reproduces them on probe listings; otherwise
    from scikit-learn itself. `fast=False` forces scikit-learn (benchmarks compare the two).
    """

    def __init__(self, pipelines: dict[str, Pipeline], *, fast: bool = True) -> None:
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
        self.compiled: CompiledModel | None = self._compile() if fast else None

    def _compile(self) -> CompiledModel | None:
        try:
            compiled = CompiledModel(self.pipelines)
        except UnsupportedPipeline as exc:
            logger.warning("scikit-learn path: pipeline cannot be compiled (%s)", exc)
            return None
        self.compiled = compiled
        fast = self.predict(PROBE_LISTINGS)
        self.compiled = None
        slow = self.predict(PROBE_LISTINGS)
        if not (
            np.allclose(fast.cluster_proba, slow.cluster_proba, rtol=0, atol=PROBE_TOLERANCE)
            and np.allclose(fast.import_proba, slow.import_proba, rtol=0, atol=PROBE_TOLERANCE)
            and fast.cluster_terms == slow.cluster_terms
            and fast.origin_terms == slow.origin_terms
        ):
            logger.warning("scikit-learn path: compiled pipelines disagree on probe listings")
            return None
        return compiled

    def _scores(self, listings: Sequence[Any]) -> tuple[Rows, np.ndarray, Rows, np.ndarray]:
        if self.compiled is not None:
            rows = self.compiled.rows(listings)
            cluster, origin = self.compiled.pipelines["cluster"], self.compiled.pipelines["origin"]
            xc, xo = rows["cluster"], rows["origin"]
            return xc, cluster.predict_proba(xc), xo, origin.predict_proba(xo)
        xc, xo = self.cluster.rows(listings), self.origin.rows(listings)
        return (
            xc,
            self.cluster.classifier.predict_proba(xc.to_csr()),
            xo,
            self.origin.classifier.predict_proba(xo.to_csr()),
        )

    def predict(self, listings: Sequence[Any]) -> Predictions:
        """Vectorised over the whole sequence: one transform and one matrix product per model."""
        xc, cluster_proba, xo, origin_proba = self._scores(listings)
        cluster_terms = self.cluster.top_terms(
            xc, self._cluster_relative, cluster_proba.argmax(axis=1)
        )
        import_proba = origin_proba[:, 1]
        origin_terms = self.origin.top_terms(
            xo, self._origin_coef, np.zeros(len(import_proba), dtype=np.intp)
        )
        return Predictions(cluster_proba, import_proba, cluster_terms, origin_terms)
