"""The executor side of the re-screening job, without Spark: model holder and checks."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.errors import ModelStoreError, PolicyError
from app.screening.policy import DEFAULT_POLICY_PATH, load_policy
from app.screening.store import load_model, read_manifest
from training.rescreen import worker
from training.rescreen.layout import INPUT_COLUMNS


def _flat(listing: dict[str, Any]) -> dict[str, Any]:
    return dict.fromkeys(INPUT_COLUMNS) | listing


def _shipped_tiny(model_dir: Path, root: Path) -> worker.ShippedModel:
    manifest = read_manifest(model_dir)
    # What the driver ships: the manifest and the compiled form it names.
    assert manifest.serving_artifact and manifest.serving_sha256
    for name in ("manifest.json", manifest.serving_artifact):
        shutil.copy(model_dir / name, root / name)
    shutil.copy(DEFAULT_POLICY_PATH, root / "default.yaml")
    return worker.ShippedModel(
        manifest.serving_artifact, manifest.serving_sha256, "default.yaml", load_policy(None)
    )


def test_executor_loads_the_model_once_per_worker_process(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = _shipped_tiny(tiny_model_dir, tmp_path)
    loads: list[Path] = []
    real_load = load_model

    def counting_load(path: Path) -> Any:
        loads.append(path)
        return real_load(path)

    monkeypatch.setattr(worker, "load_model", counting_load)
    monkeypatch.setattr(worker, "_SCREENERS", {})
    frame = pd.DataFrame(
        [
            _flat({"listing_id": f"t{i}", "title": t})
            for i, t in enumerate(["kemeja batik", "", "keripik tempe"])
        ]
    )
    for _ in range(3):  # three tasks in the same Python worker
        out = list(worker.screen_partition(iter([frame]), shipped=shipped, chunk=2, root=tmp_path))
        assert out[0]["listing_id"].tolist() == ["t0", "t1", "t2"]
        assert out[0]["decision"].tolist()[1] == "review"
    assert loads == [tmp_path]


def test_executor_refuses_files_other_than_the_drivers(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = _shipped_tiny(tiny_model_dir, tmp_path)
    monkeypatch.setattr(worker, "_SCREENERS", {})
    other_sha = worker.ShippedModel(shipped.artifact, "0" * 64, shipped.policy_file, shipped.policy)
    with pytest.raises(ModelStoreError, match="the driver verified 0000"):
        worker.executor_screener(other_sha, tmp_path)
    stricter = shipped.policy.model_copy(update={"version": "other"})
    other_policy = worker.ShippedModel(
        shipped.artifact, shipped.artifact_sha256, shipped.policy_file, stricter
    )
    with pytest.raises(PolicyError, match="differs from the driver's"):
        worker.executor_screener(other_policy, tmp_path)
