"""The model store: artifacts in `models/<version>/` with a manifest, verified before loading.

A model folder holds `model.joblib` (the fitted scikit-learn Pipelines, the source of truth),
`serving.npz` (their compiled form: plain arrays, no pickles) and `manifest.json` (checksums
of both, metrics, and self-check cases). The service loads `serving.npz` with numpy alone,
after checking its sha256, and re-runs the self-check. A folder without it is served from
the Pipelines: `joblib.load` runs code from the file, so its sha256 is checked first, and a
model made by another scikit-learn version is refused rather than half-trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import ModelStoreError
from app.schemas import DataSource
from app.screening import linear_file
from app.screening.linear import LinearModel
from app.screening.model import ScreeningModel
from app.screening.tokenizers import UnsupportedModel

MANIFEST = "manifest.json"
ARTIFACT = "model.joblib"
SERVING_ARTIFACT = "serving.npz"
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
    # The compiled form; absent in folders made before it existed.
    serving_artifact: str | None = None
    serving_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
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

    @property
    def artifact(self) -> str:
        """The file the model was loaded from: the compiled form, else the Pipelines."""
        if self.model.compiled and self.manifest.serving_artifact:
            return self.manifest.serving_artifact
        return self.manifest.artifact

    @property
    def artifact_sha256(self) -> str:
        if self.model.compiled and self.manifest.serving_sha256:
            return self.manifest.serving_sha256
        return self.manifest.artifact_sha256


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


def _verified(model_dir: Path, name: str, sha256: str) -> io.BytesIO:
    """The artifact's bytes, read once: the bytes that were hashed are the bytes loaded, so a
    file replaced between the check and the load cannot slip in unverified."""
    path = model_dir / name
    if not path.is_file():
        raise ModelStoreError(f"artifact {path} is missing")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ModelStoreError(f"cannot read artifact {path}: {exc.strerror}") from exc
    actual = hashlib.sha256(content).hexdigest()
    if actual != sha256:
        raise ModelStoreError(
            f"artifact {path} has sha256 {actual}, the manifest says {sha256}: refusing to load it"
        )
    return io.BytesIO(content)


def load_model(model_dir: Path, *, compiled: bool = True) -> LoadedModel:
    """Verifies the checksum, loads, and runs the self-check.

    The compiled `serving.npz` when the manifest names one (and `compiled`); otherwise the
    Pipelines, whose scikit-learn version must be the installed one.
    """
    manifest = read_manifest(model_dir)
    if compiled and manifest.serving_artifact and manifest.serving_sha256:
        content = _verified(model_dir, manifest.serving_artifact, manifest.serving_sha256)
        path = model_dir / manifest.serving_artifact
        try:
            model = ScreeningModel.from_linear(linear_file.read(content))
        # A file that matches its hash can still be corrupt (written wrong, then hashed):
        # whatever reading it raises (a bad zip, a truncated array, a wrong key) means the
        # artifact cannot be served, which is a load failure, not a server error.
        except Exception as exc:
            raise ModelStoreError(f"cannot load {path}: {type(exc).__name__}: {exc}") from exc
    else:
        model = ScreeningModel.from_pipelines(load_pipelines(model_dir, manifest))
    self_check(model, manifest.self_check)
    return LoadedModel(model, manifest, model_dir)


def load_pipelines(model_dir: Path, manifest: Manifest | None = None) -> dict[str, Any]:
    """The fitted Pipelines of a model folder, checksum and scikit-learn version verified."""
    import joblib
    import sklearn

    manifest = read_manifest(model_dir) if manifest is None else manifest
    if manifest.sklearn_version != sklearn.__version__:
        raise ModelStoreError(
            f"model {manifest.version} was trained with scikit-learn {manifest.sklearn_version}, "
            f"but scikit-learn {sklearn.__version__} is installed; retrain it or install "
            f"scikit-learn=={manifest.sklearn_version}"
        )
    content = _verified(model_dir, manifest.artifact, manifest.artifact_sha256)
    try:
        pipelines: dict[str, Any] = joblib.load(content)
    except Exception as exc:  # as for serving.npz: a corrupt artifact is a load failure
        path = model_dir / manifest.artifact
        raise ModelStoreError(f"cannot load {path}: {type(exc).__name__}: {exc}") from exc
    return pipelines


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
    """Writes the Pipelines, their compiled form and the manifest (checksums, self-check)."""
    import joblib
    import sklearn

    model = ScreeningModel.from_pipelines(pipelines)
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
    if model.linear is not None:
        manifest = _save_serving(model.linear, model_dir, manifest)
    write_manifest(model_dir, manifest)
    return manifest


def _save_serving(linear: LinearModel, model_dir: Path, manifest: Manifest) -> Manifest:
    path = model_dir / SERVING_ARTIFACT
    linear_file.write(linear, path)
    return manifest.model_copy(
        update={"serving_artifact": SERVING_ARTIFACT, "serving_sha256": sha256_file(path)}
    )


def export_serving(model_dir: Path) -> Manifest:
    """Adds the compiled form to a folder that has only the Pipelines.

    The Pipelines must compile (ModelStoreError otherwise); the written file must load and
    reproduce the manifest's self-check, or nothing in the folder changes.
    """
    manifest = read_manifest(model_dir)
    model = ScreeningModel.from_pipelines(load_pipelines(model_dir, manifest))
    if model.linear is None:
        raise ModelStoreError(f"{model_dir}: the pipelines cannot be compiled; see the log")
    updated = _save_serving(model.linear, model_dir, manifest)
    try:
        self_check(
            ScreeningModel.from_linear(linear_file.read(model_dir / SERVING_ARTIFACT)),
            manifest.self_check,
        )
    except (ModelStoreError, UnsupportedModel) as exc:
        (model_dir / SERVING_ARTIFACT).unlink()
        raise ModelStoreError(f"{model_dir}: the compiled form fails the self-check") from exc
    write_manifest(model_dir, updated)
    return updated


def write_manifest(model_dir: Path, manifest: Manifest) -> None:
    (model_dir / MANIFEST).write_text(
        json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
