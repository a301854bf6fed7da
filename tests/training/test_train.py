from __future__ import annotations

from pathlib import Path

import pytest

from app.screening.store import load_model
from training import data
from training.sources import load_config
from training.train import TrainConfig, train

pytestmark = pytest.mark.skipif(
    not data.SHARED_DATA.is_dir(), reason="../shared/data is not present"
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
    configured = [s.name for s in load_config().sources]
    assert [s.name for s in manifest.data_sources][: len(configured)] == configured
    assert all(len(s.sha256) == 64 for s in manifest.data_sources)


def test_hand_checked_shops_never_reach_training() -> None:
    examples = data.load_sources()
    labels = data.load_hand_labels()
    pool, checked = data.split_off_hand_checked(examples, labels)
    held = {e.group for e in checked}
    assert checked and held
    assert not held & {e.group for e in pool}
    assert not {(e.source, e.row_id) for e in checked} & {(e.source, e.row_id) for e in pool}


def test_development_and_validation_shops_both_leave_the_pool() -> None:
    def ex(row_id: str, shop: str) -> data.Example:
        return data.Example("s.csv", row_id, f"kaos {row_id}", "", shop, "textile_fashion", "")

    def label(row_id: str) -> data.HandLabel:
        return data.HandLabel("s.csv", row_id, "other", "domestic", False)

    examples = [ex("1", "a"), ex("2", "a"), ex("3", "b"), ex("4", "c"), ex("5", "d")]
    validation = {("s.csv", "1"): label("1")}
    dev = {("s.csv", "3"): label("3")}
    pool, checked, development = data.split_off_validation_and_dev(examples, validation, dev)
    # Shop a (validation) and shop b (development) leave the pool whole, row 2 too.
    assert [e.row_id for e in pool] == ["4", "5"]
    assert [(e.row_id, e.cluster) for e in checked] == [("1", "other")]
    assert [(e.row_id, e.cluster) for e in development] == [("3", "other")]
    with pytest.raises(ValueError, match="both"):
        data.split_off_validation_and_dev(examples, validation, validation)


def test_the_cli_trains_with_the_normaliser_revision_asked_for(tmp_path: Path) -> None:
    from app.screening import linear_file
    from training.__main__ import main

    out = tmp_path / "rev1"
    argv = ["train", "--limit", "300", "--normalizer", "1", "--output", str(out)]
    assert main([*argv, "--version", "rev1"]) == 0
    linear = linear_file.read(out / "serving.npz")
    assert {c.normalizer for c in linear.classifiers.values()} == {1}
    assert load_model(out).version == "rev1"


def test_another_seed_changes_the_model_but_not_the_shop_split(tmp_path: Path) -> None:
    runs = {}
    for seed in (1, 2):
        out = tmp_path / f"seed{seed}"
        runs[seed] = train(
            TrainConfig(output=out, version="s", limit=300, seed=seed), log=lambda _: None
        )
    one, two = (runs[s].metrics["shop_holdout"] for s in (1, 2))
    assert one["n"] == two["n"]  # the same held-out shops
    assert runs[1].artifact_sha256 != runs[2].artifact_sha256


def test_hand_read_corrections_replace_the_mapped_cluster_only_where_given(
    tmp_path: Path,
) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("source,row_id,cluster,hard\ns.csv,2,other,1\nx.csv,9,culinary,0\n")
    corrections = data.load_corrections(path)
    assert corrections == {("s.csv", "2"): "other", ("x.csv", "9"): "culinary"}
    examples = [
        data.Example("s.csv", str(i), f"vas gerabah {i}", "", f"shop{i}", "handicraft", "domestic")
        for i in (1, 2)
    ]
    fixed = data.apply_corrections(examples, corrections)
    assert [e.cluster for e in fixed] == ["handicraft", "other"]
    assert fixed[1].title == examples[1].title and fixed[1].group == examples[1].group
    assert data.load_corrections(tmp_path / "absent.csv") == {}


def test_training_refuses_to_replace_a_model_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from training.__main__ import main

    existing = tmp_path / "akar-1.8.0"
    existing.mkdir()
    (existing / "manifest.json").write_text("{}")
    assert main(["train", "--version", "akar-1.8.0", "--output", str(existing)]) == 2
    assert "already holds a model" in capsys.readouterr().err
    assert (existing / "manifest.json").read_text() == "{}"  # nothing written
