"""The estimator MLServer's sklearn runtime serves in the HTTP benchmark (`bench/mlserver.py`).

MLServer's `mlserver_sklearn.SKLearnModel` unpickles ONE estimator from a joblib file and calls
its `predict_proba` on the decoded request. Our artifact is a dict of two Pipelines that take
listings (mappings with a "title"), so this wrapper turns the decoded V2 `BYTES` input into
`[{"title": ...}]` and returns both models' probabilities side by side: the cluster
probabilities (columns in the cluster classifier's class order) and then P(import). That is the
model work of our `/v1/screen` without the policy, done by scikit-learn itself.

How MLServer 1.7 decodes the input (`mlserver.codecs.NumpyCodec`, the runtime's default): a JSON
request's `"data": ["..."]` of strings becomes a numpy array of `str` (`<U…`) with the request's
shape; raw bytes (gRPC, binary data) become an array of `bytes`. Both are accepted here, as are
plain lists and object arrays; bytes are decoded as UTF-8.

This module is unpickled inside MLServer's own virtual environment (with the repository root on
its PYTHONPATH), so it imports nothing beyond numpy at module level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):  # np.bytes_ is a bytes subclass
        return bytes(value).decode("utf-8")
    return str(value)


class ScreeningEstimator:
    """Both fitted Pipelines of an artifact behind one `predict_proba(titles)`."""

    def __init__(self, cluster: Any, origin: Any) -> None:
        self.cluster = cluster
        self.origin = origin
        self.cluster_labels = [str(c) for c in cluster.classes_]
        self.import_column = [str(c) for c in origin.classes_].index("import")
        # What each column of predict_proba is.
        self.columns = [*self.cluster_labels, "import"]

    @classmethod
    def from_pipelines(cls, pipelines: dict[str, Any]) -> ScreeningEstimator:
        return cls(pipelines["cluster"], pipelines["origin"])

    @classmethod
    def from_model_dir(cls, model_dir: Path) -> ScreeningEstimator:
        """From a model folder's fitted Pipelines (`model.joblib`), loaded by our model store,
        which checks the artifact's sha256 and scikit-learn version first."""
        from app.screening.store import load_pipelines

        return cls.from_pipelines(load_pipelines(model_dir))

    @staticmethod
    def records(X: Any) -> list[dict[str, str]]:
        """Decoded V2 input (any shape of str or bytes) to listings with only a title."""
        return [{"title": _text(v)} for v in np.asarray(X, dtype=object).ravel().tolist()]

    def predict_proba(self, X: Any) -> np.ndarray:
        """(n, clusters + 1): the cluster probabilities, then P(import)."""
        listings = self.records(X)
        cluster = self.cluster.predict_proba(listings)
        origin = self.origin.predict_proba(listings)[:, self.import_column]
        return np.column_stack([cluster, origin])

    def predict(self, X: Any) -> np.ndarray:
        """The most probable cluster per title (MLServer's default output)."""
        labels = np.array(self.cluster_labels, dtype=object)
        best: np.ndarray = self.cluster.predict_proba(self.records(X)).argmax(axis=1)
        picked: np.ndarray = labels[best]
        return picked
