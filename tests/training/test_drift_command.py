"""The reference profile beside a model (`train`, `python -m training profile`) and
`python -m training drift` on decision files against it."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from app.screening import drift
from app.screening.store import load_model, read_manifest
from tests.training.hand_checked import LISTINGS, HandChecked, write_hand_checked
from training.__main__ import main
from training.drift import DriftError, run
from training.train import TrainConfig, train

MODELS_ROOT = Path("models")


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> HandChecked:
    return write_hand_checked(tmp_path_factory.mktemp("hand_checked"))


@pytest.fixture(scope="module")
def profiled(
    tiny_model_dir: Path, sets: HandChecked, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of the tiny model with its reference profile, written by the command."""
    model = tmp_path_factory.mktemp("models") / "tiny-1"
    shutil.copytree(tiny_model_dir, model)
    argv = ["profile", str(model), "--sources", str(sets.sources)]
    assert main([*argv, "--hand-labels", str(sets.validation)]) == 0
    return model


@pytest.fixture(scope="module")
def validation_files(profiled: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(listings, decisions): the validation titles, screened by `python -m training screen`."""
    folder = tmp_path_factory.mktemp("validation")
    listings, decisions = folder / "listings.csv", folder / "decisions.csv"
    with listings.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["listing_id", "title"])
        w.writerows((f"L{row_id}", title) for row_id, title, _, _ in LISTINGS[0::2])
    assert (
        main(["screen", str(listings), "--output", str(decisions), "--model", str(profiled)]) == 0
    )
    return listings, decisions


def _skewed(path: Path, n: int = 40) -> Path:
    """Decisions nothing like the validation set's: all blocked culinary imports, unsure."""
    row = {
        "listing_id": None,
        "decision": "block",
        "shadow_decision": None,
        "cluster": "culinary",
        "cluster_confidence": 0.35,
        "origin": "import",
        "import_probability": 0.97,
        "reasons": ["PROTECTED_IMPORT"],
        "model_version": "tiny-1",
        "policy_version": "x",
        "error": None,
    }
    path.write_text(
        "".join(json.dumps(row | {"listing_id": f"S{i}"}) + "\n" for i in range(n)),
        encoding="utf-8",
    )
    return path


def test_the_profile_command_writes_the_validation_sets_profile(profiled: Path) -> None:
    written = json.loads((profiled / drift.PROFILE_FILE).read_text(encoding="utf-8"))
    assert written["version"] == drift.PROFILE_VERSION
    assert written["listings"] == 25
    assert "validation set (25" in written["source"]
    assert set(written["cluster"]) == {"textile_fashion", "culinary", "handicraft", "other"}
    assert sum(written["cluster"].values()) == pytest.approx(1)
    assert sum(written["decision"].values()) == pytest.approx(1)
    for name in drift.HISTOGRAMS:
        assert sum(written[name]) == pytest.approx(1), name
    # Half the titles carry words the tiny model never saw ("ready stok").
    assert sum(written["unknown_word_share"][1:]) > 0.3


def test_a_model_with_a_profile_still_loads_verified(profiled: Path, tiny_model_dir: Path) -> None:
    assert read_manifest(profiled) == read_manifest(tiny_model_dir)  # checksums untouched
    assert load_model(profiled).version == "tiny-1"


def test_validation_decisions_show_no_drift_against_their_own_profile(
    profiled: Path, validation_files: tuple[Path, Path]
) -> None:
    listings, decisions = validation_files
    result = run(decisions, profiled, MODELS_ROOT, listings)
    assert result.listings == 25 and result.skipped == {}
    assert set(result.psi) == set(drift.FEATURES)
    assert all(value < 0.01 for value in result.psi.values()), result.psi


def test_a_skewed_file_shows_a_large_shift_on_every_feature_it_has(
    profiled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    skewed = _skewed(tmp_path / "skewed.jsonl")
    assert main(["drift", "--decisions", str(skewed), "--model", str(profiled)]) == 0
    out = capsys.readouterr().out
    result = run(skewed, profiled, MODELS_ROOT)
    assert set(result.psi) == {"cluster_confidence", "import_probability", "cluster", "decision"}
    assert all(value > drift.PSI_LARGE for value in result.psi.values()), result.psi
    assert out.count("large shift") == 4
    assert "unknown_word_share" in out and "skipped: needs the titles" in out


def test_decisions_are_matched_to_listings_by_id_whatever_their_order(
    profiled: Path, validation_files: tuple[Path, Path], tmp_path: Path
) -> None:
    listings, decisions = validation_files
    with decisions.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    reversed_file = tmp_path / "reversed.csv"
    with reversed_file.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(header or ()))
        w.writeheader()
        w.writerows(reversed(rows))
    in_order = run(decisions, profiled, MODELS_ROOT, listings)
    shuffled = run(reversed_file, profiled, MODELS_ROOT, listings)
    assert shuffled.live == {**in_order.live, "source": str(reversed_file)}


def test_a_partitioned_parquet_folder_from_rescreen_is_read(
    profiled: Path, validation_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    _, decisions = validation_files
    with decisions.open(encoding="utf-8", newline="") as f:
        rows = [
            r
            | {
                "cluster_confidence": float(r["cluster_confidence"]),
                "import_probability": float(r["import_probability"]),
                "shadow_decision": None,
            }
            for r in csv.DictReader(f)
        ]
    folder = tmp_path / "decisions"
    pq.write_to_dataset(pa.Table.from_pylist(rows), folder, partition_cols=["decision"])
    from_parquet = run(folder, profiled, MODELS_ROOT)
    from_csv = run(decisions, profiled, MODELS_ROOT)
    assert from_parquet.psi == pytest.approx(from_csv.psi)
    assert from_parquet.live["decision"] == from_csv.live["decision"]


def test_the_plot_is_a_png(
    profiled: Path, validation_files: tuple[Path, Path], tmp_path: Path
) -> None:
    listings, decisions = validation_files
    png = tmp_path / "drift" / "drift.png"
    argv = ["drift", "--decisions", str(decisions), "--listings", str(listings)]
    assert main([*argv, "--model", str(profiled), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_drift_refuses_a_missing_file(
    profiled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.csv"
    assert main(["drift", "--decisions", str(missing), "--model", str(profiled)]) == 2
    assert f"error: {missing}: no such file" in capsys.readouterr().err


def test_drift_refuses_a_model_without_a_profile(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    skewed = _skewed(tmp_path / "skewed.jsonl")
    assert main(["drift", "--decisions", str(skewed), "--model", str(tiny_model_dir)]) == 2
    err = capsys.readouterr().err
    assert "has no reference profile" in err and "python -m training profile" in err


def test_drift_refuses_a_file_that_is_not_decisions(profiled: Path, tmp_path: Path) -> None:
    bad = tmp_path / "listings.jsonl"
    bad.write_text('{"title": "kemeja batik"}\n', encoding="utf-8")
    with pytest.raises(DriftError, match="no 'cluster' or 'decision' column"):
        run(bad, profiled, MODELS_ROOT)


def test_training_writes_the_reference_profile_beside_the_model(
    sets: HandChecked, tmp_path: Path
) -> None:
    out = tmp_path / "trained-1"
    train(
        TrainConfig(
            output=out,
            version="trained-1",
            sources=sets.sources,
            authored=(),
            hand_labels=sets.validation,
            dev_labels=sets.dev,
            corrections=None,
        ),
        log=lambda _: None,
    )
    written = drift.load_profile(out)
    assert written is not None and written["listings"] == 25
    assert load_model(out).version == "trained-1"


def test_drift_refuses_a_file_of_another_kind_and_a_missing_model(
    profiled: Path, tmp_path: Path
) -> None:
    text = tmp_path / "decisions.txt"
    text.write_text("decision\nallow\n", encoding="utf-8")
    with pytest.raises(DriftError, match="give a .csv, .jsonl or .parquet file"):
        run(text, profiled, MODELS_ROOT)
    with pytest.raises(DriftError, match="no such model folder"):
        run(_skewed(tmp_path / "skewed.jsonl"), tmp_path / "nope", MODELS_ROOT)
