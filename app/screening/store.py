"""The model store: artifacts in `models/<version>/` with a manifest, verified before unpickling.

`joblib.load` runs code from the file, so the artifact's sha256 is checked against the manifest
first, and a model made by another scikit-learn version is refused rather than half-trusted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import ModelStoreError
from app.schemas import DataSource
from app.screening.model import ScreeningModel

MANIFEST = "manifest.json"
ARTIFACT = "model.joblib"
DEFAULT_POINTER = "DEFAULT"
SELF_CHECK_TOLERANCE = 1e-6


class SelfCheckCase(BaseModel):
    listing: dict[str, Any]
    cluster_proba: list[float]
    import_proba: float


class Manifest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str = Field(min_length=1)
    created_at: str
    sklearn_version: str
    cluster_labels: list[str]
    origin_labels: list[str]
    data_sources: list[DataSource]
    metrics: dict[str, Any]
    artifact: str = ARTIFACT
    artifact_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    self_check: list[SelfCheckCase] = Field(min_length=1)


class LoadedModel:
    """A verified model and its manifest."""

    def __init__(self, model: ScreeningModel, manifest: Manifest, path: Path) -> None:
        self.model = model
        self.manifest = manifest
        self.path = path

    @property
    def version(self) -> str:
        return self.manifest.version


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_model_dir(model_dir: Path | None, models_root: Path) -> Path:
    """The explicit model folder, else the one named in `<models_root>/DEFAULT`."""
    if model_dir is not None:
        return model_dir
    pointer = models_root / DEFAULT_POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ModelStoreError(f"no model folder given and {pointer} cannot be read") from exc
    return models_root / name


def read_manifest(model_dir: Path) -> Manifest:
    path = model_dir / MANIFEST
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ModelStoreError(f"cannot read {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        raise ModelStoreError(f"{path} is not a valid manifest: {exc}") from exc


def load_model(model_dir: Path) -> LoadedModel:
    """Verifies checksum and scikit-learn version, unpickles, and runs the self-check."""
    manifest = read_manifest(model_dir)
    if manifest.sklearn_version != sklearn.__version__:
        raise ModelStoreError(
            f"model {manifest.version} was trained with scikit-learn {manifest.sklearn_version}, "
            f"but scikit-learn {sklearn.__version__} is installed; retrain it or install "
            f"scikit-learn=={manifest.sklearn_version}"
        )
    artifact = model_dir / manifest.artifact
    if not artifact.is_file():
        raise ModelStoreError(f"artifact {artifact} is missing")
    actual = sha256_file(artifact)
    if actual != manifest.artifact_sha256:
        raise ModelStoreError(
            f"artifact {artifact} has sha256 {actual}, the manifest says "
            f"{manifest.artifact_sha256}: refusing to load it"
        )
    model = ScreeningModel(joblib.load(artifact))
    self_check(model, manifest.self_check)
    return LoadedModel(model, manifest, model_dir)


def self_check(model: ScreeningModel, cases: Sequence[SelfCheckCase]) -> None:
    """The model must reproduce the probabilities recorded when it was trained."""
    preds = model.predict([c.listing for c in cases])
    expected_c = np.array([c.cluster_proba for c in cases])
    expected_o = np.array([c.import_proba for c in cases])
    if preds.cluster_proba.shape != expected_c.shape or not (
        np.allclose(preds.cluster_proba, expected_c, rtol=0, atol=SELF_CHECK_TOLERANCE)
        and np.allclose(preds.import_proba, expected_o, rtol=0, atol=SELF_CHECK_TOLERANCE)
    ):
        raise ModelStoreError(
            "self-check failed: the model does not reproduce its recorded "
            "predictions on the manifest's check listings"
        )


def save_model(
    pipelines: dict[str, Any],
    model_dir: Path,
    *,
    version: str,
    created_at: str,
    data_sources: list[DataSource],
    metrics: dict[str, Any],
    check_listings: Sequence[dict[str, Any]],
) -> Manifest:
    """Writes the artifact and its manifest (with checksum and self-check cases)."""
    model = ScreeningModel(pipelines)
    model_dir.mkdir(parents=True, exist_ok=True)
    artifact = model_dir / ARTIFACT
    joblib.dump(pipelines, artifact, compress=3)
    preds = model.predict(list(check_listings))
    manifest = Manifest(
        version=version,
        created_at=created_at,
        sklearn_version=sklearn.__version__,
        cluster_labels=model.cluster_labels,
        origin_labels=["domestic", "import"],
        data_sources=data_sources,
        metrics=metrics,
        artifact_sha256=sha256_file(artifact),
        self_check=[
            SelfCheckCase(listing=dict(c), cluster_proba=p.tolist(), import_proba=float(o))
            for c, p, o in zip(check_listings, preds.cluster_proba, preds.import_proba, strict=True)
        ],
    )
    (model_dir / MANIFEST).write_text(
        json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return manifest
