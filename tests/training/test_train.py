from __future__ import annotations

from pathlib import Path

import pytest

from app.screening.store import load_model
from training import data
from training.train import TrainConfig, train

pytestmark = pytest.mark.skipif(
    not (data.SHARED_DATA / data.UMKM).is_file(), reason="../shared/data is not present"
)


def test_training_on_a_slice_of_real_data_writes_a_loadable_model(tmp_path: Path) -> None:
    out = tmp_path / "slice-1"
    lines: list[str] = []
    manifest = train(TrainConfig(output=out, version="slice-1", limit=1500), log=lines.append)
    # It reports progress and per-class and decision metrics ...
    assert any(line.startswith("[5/5]") for line in lines)
    assert any("decision: false-block rate" in line for line in lines)
    holdout = manifest.metrics["shop_holdout"]
    assert set(holdout["cluster"]["classes"]) == {
        "textile_fashion",
        "culinary",
        "handicraft",
        "other",
    }
    # ... learns something real from 1,500 rows a source ...
    assert holdout["cluster"]["accuracy"] > 0.8
    # ... and writes an artifact the service's store accepts, with provenance.
    loaded = load_model(out)
    assert loaded.version == "slice-1"
    assert [s.name for s in manifest.data_sources][:4] == list(data.SOURCES)
    assert all(len(s.sha256) == 64 for s in manifest.data_sources)


def test_hand_checked_shops_never_reach_training() -> None:
    examples = data.load_source(data.UMKM)
    labels = data.load_hand_labels()
    pool, checked = data.split_off_hand_checked(examples, labels)
    held = {e.group for e in checked}
    assert checked and held
    assert not held & {e.group for e in pool}
    assert not {(e.source, e.row_id) for e in checked} & {(e.source, e.row_id) for e in pool}
