from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.errors import ModelStoreError
from app.screening.store import export_serving, load_model, read_manifest, resolve_model_dir
from tests.conftest import REPO


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


@pytest.mark.parametrize("name", ["serving.npz", "model.joblib"])
def test_a_tampered_artifact_is_refused_before_loading(model_copy: Path, name: str) -> None:
    with (model_copy / name).open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelStoreError, match="refusing to load it"):
        load_model(model_copy, compiled=name == "serving.npz")


def test_the_compiled_form_is_served_without_scikit_learn(tiny_model_dir: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from app.screening.store import load_model; "
        f"m = load_model(Path({str(tiny_model_dir)!r})); assert m.model.compiled; "
        "bad = [n for n in sys.modules if n.split('.')[0] in ('sklearn', 'scipy', 'joblib')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_a_folder_without_the_compiled_form_is_served_from_the_pipelines(
    model_copy: Path,
) -> None:
    _edit_manifest(model_copy, serving_artifact=None, serving_sha256=None)
    (model_copy / "serving.npz").unlink()
    loaded = load_model(model_copy)
    assert loaded.artifact == "model.joblib"  # compiled in memory at load, from the Pipelines
    export_serving(model_copy)
    again = load_model(model_copy)
    assert again.model.compiled and again.artifact == "serving.npz"
    listings = [{"title": "keripik pedas"}, {"title": "kemeja import china"}]
    a, b = loaded.model.predict(listings), again.model.predict(listings)
    assert np.abs(a.cluster_proba - b.cluster_proba).max() <= 1e-9
    assert a.cluster_terms == b.cluster_terms and a.origin_terms == b.origin_terms


def test_pipelines_from_another_sklearn_version_are_refused_naming_both(model_copy: Path) -> None:
    _edit_manifest(model_copy, sklearn_version="0.24.2")
    with pytest.raises(ModelStoreError, match=r"scikit-learn 0\.24\.2.*scikit-learn==0\.24\.2"):
        load_model(model_copy, compiled=False)
    # The compiled form is plain arrays: no unpickling, so the version does not bind it.
    assert load_model(model_copy).model.compiled


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
    (model_copy / "serving.npz").unlink()
    with pytest.raises(ModelStoreError, match="is missing"):
        load_model(model_copy)


def test_resolve_model_dir_follows_the_default_pointer(tmp_path: Path) -> None:
    (tmp_path / "DEFAULT").write_text("v7\n")
    assert resolve_model_dir(None, tmp_path) == tmp_path / "v7"
    assert resolve_model_dir(tmp_path / "x", tmp_path) == tmp_path / "x"


def test_resolve_model_dir_without_pointer_says_so(tmp_path: Path) -> None:
    with pytest.raises(ModelStoreError, match="DEFAULT cannot be read"):
        resolve_model_dir(None, tmp_path)
