"""The screening model: cluster and origin probabilities with the terms that pushed them.

A model is served from its compiled form (`app.screening.linear.LinearModel`, plain numpy
arrays). Built from scikit-learn Pipelines, it is compiled when their structure allows and
the compiled form reproduces them on probe listings; otherwise scikit-learn itself predicts
(`app.screening.pipelines.ReferenceModel`). scikit-learn is imported only on that path.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, get_args

import numpy as np

from app.errors import ModelStoreError
from app.schemas import ClusterLabel, OriginLabel
from app.screening.linear import LinearModel, Predictions
from app.screening.tokenizers import UnsupportedModel

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

__all__ = ["CLUSTER_LABELS", "ORIGIN_LABELS", "Predictions", "ScreeningModel"]

logger = logging.getLogger("akar_gate")

# The labels' one definition is the API's (app/schemas.py); a model's classes must be these.
CLUSTER_LABELS: tuple[str, ...] = get_args(ClusterLabel)
ORIGIN_LABELS: tuple[str, ...] = get_args(OriginLabel)
# The compiled form must reproduce scikit-learn on these before it is used.
PROBE_LISTINGS: list[dict[str, str]] = [
    {"title": "Kemeja Batik Pria Lengan Panjang", "category": "fashion/pria/kemeja"},
    {"title": "keripik tempe khas malang 250gr", "brand": "Bu Rudy"},
    {"title": "Earphone Bluetooth IMPORT made in china", "description": "ready stok"},
    {"title": "1mp0rt k o r e a snack pedasss"},
    {"title": ""},
]
PROBE_TOLERANCE = 1e-9


class Predictor(Protocol):
    cluster_labels: list[str]

    def predict(self, listings: Sequence[Any]) -> Predictions: ...


class ScreeningModel:
    """Cluster and origin classifiers of one artifact; `compiled` says which path predicts."""

    def __init__(self, predictor: Predictor, *, compiled: bool) -> None:
        self.predictor = predictor
        self.compiled = compiled
        self.cluster_labels: list[str] = list(predictor.cluster_labels)
        if sorted(self.cluster_labels) != sorted(CLUSTER_LABELS):
            raise ModelStoreError(f"cluster labels {self.cluster_labels} != {CLUSTER_LABELS}")

    @classmethod
    def from_linear(cls, linear: LinearModel) -> ScreeningModel:
        origin = list(linear.origin.labels)
        if origin != list(ORIGIN_LABELS):
            raise ModelStoreError(f"origin labels {origin} != {ORIGIN_LABELS}")
        return cls(linear, compiled=True)

    @classmethod
    def from_pipelines(
        cls, pipelines: Mapping[str, Pipeline], *, fast: bool = True
    ) -> ScreeningModel:
        """Compiled when possible and equal to scikit-learn on probes; `fast=False` never."""
        from app.screening.pipelines import ReferenceModel, compile_pipelines

        if not isinstance(pipelines, Mapping) or set(pipelines) != {"cluster", "origin"}:
            raise ModelStoreError("artifact must hold a dict with 'cluster' and 'origin' pipelines")
        try:
            reference = ReferenceModel(pipelines)
        except UnsupportedModel as exc:
            raise ModelStoreError(str(exc)) from exc
        origin = reference.origin.classes
        if origin != list(ORIGIN_LABELS):
            raise ModelStoreError(f"origin labels {origin} != {ORIGIN_LABELS}")
        if fast:
            try:
                linear = compile_pipelines(pipelines)
            except UnsupportedModel as exc:
                logger.warning("scikit-learn path: pipelines cannot be compiled (%s)", exc)
            else:
                if agree(linear.predict(PROBE_LISTINGS), reference.predict(PROBE_LISTINGS)):
                    return cls(linear, compiled=True)
                logger.warning("scikit-learn path: compiled pipelines disagree on probe listings")
        return cls(reference, compiled=False)

    @property
    def linear(self) -> LinearModel | None:
        return self.predictor if isinstance(self.predictor, LinearModel) else None

    def predict(self, listings: Sequence[Any]) -> Predictions:
        """Vectorised over the whole sequence."""
        if not listings:
            k = len(self.cluster_labels)
            return Predictions(np.zeros((0, k)), np.zeros(0), [], [])
        return self.predictor.predict(listings)


def agree(a: Predictions, b: Predictions, tolerance: float = PROBE_TOLERANCE) -> bool:
    """Same probabilities (within tolerance) and the same evidence terms."""
    return (
        a.cluster_proba.shape == b.cluster_proba.shape
        and np.allclose(a.cluster_proba, b.cluster_proba, rtol=0, atol=tolerance)
        and np.allclose(a.import_proba, b.import_proba, rtol=0, atol=tolerance)
        and a.cluster_terms == b.cluster_terms
        and a.origin_terms == b.origin_terms
    )
