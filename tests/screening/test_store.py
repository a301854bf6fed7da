from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.errors import ModelStoreError
from app.screening.store import load_model, read_manifest, resolve_model_dir


@pytest.fixture
def model_copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_model_dir, tmp_path / "m"))


def _edit_manifest(model_dir: Path, **changes: object) -> None:
    path = model_dir / "manifest.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_load_model_verifies_and_returns_the_manifest(tiny_model_dir: Path) -> None:
    loaded = load_model(tiny_model_dir)
    assert loaded.version == "tiny-1"
    assert loaded.model.cluster_labels == ["culinary", "handicraft", "other", "textile_fashion"]


def test_a_tampered_artifact_is_refused_before_unpickling(model_copy: Path) -> None:
    with (model_copy / "model.joblib").open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelStoreError, match="refusing to load it"):
        load_model(model_copy)


def test_a_model_from_another_sklearn_version_is_refused_naming_both(model_copy: Path) -> None:
    _edit_manifest(model_copy, sklearn_version="0.24.2")
    with pytest.raises(ModelStoreError, match=r"scikit-learn 0\.24\.2.*scikit-learn==0\.24\.2"):
        load_model(model_copy)


def test_a_model_that_fails_its_self_check_is_refused(model_copy: Path) -> None:
    data = json.loads((model_copy / "manifest.json").read_text())
    data["self_check"][0]["import_proba"] = 0.123
    (model_copy / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ModelStoreError, match="self-check failed"):
        load_model(model_copy)


def test_a_missing_manifest_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelStoreError, match="cannot read"):
        load_model(tmp_path)


def test_an_invalid_manifest_is_reported(model_copy: Path) -> None:
    _edit_manifest(model_copy, artifact_sha256="not-a-hash")
    with pytest.raises(ModelStoreError, match="not a valid manifest"):
        read_manifest(model_copy)


def test_a_missing_artifact_is_reported(model_copy: Path) -> None:
    (model_copy / "model.joblib").unlink()
    with pytest.raises(ModelStoreError, match="is missing"):
        load_model(model_copy)


def test_resolve_model_dir_follows_the_default_pointer(tmp_path: Path) -> None:
    (tmp_path / "DEFAULT").write_text("v7\n")
    assert resolve_model_dir(None, tmp_path) == tmp_path / "v7"
    assert resolve_model_dir(tmp_path / "x", tmp_path) == tmp_path / "x"


def test_resolve_model_dir_without_pointer_says_so(tmp_path: Path) -> None:
    with pytest.raises(ModelStoreError, match="DEFAULT cannot be read"):
        resolve_model_dir(None, tmp_path)
