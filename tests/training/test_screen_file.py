from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from app.schemas import Listing
from app.screening.policy import load_policy
from app.screening.screener import Screener
from app.screening.store import load_model
from training.__main__ import main
from training.screen_file import screen_file

ROWS = [
    {"listing_id": "a", "title": "kemeja batik pria", "ship_from_country": "CN"},
    {"listing_id": "b", "title": "keripik tempe", "price_amount": "15000"},
    {"listing_id": "c", "title": "charger 33w", "seller_cross_border": "true"},
    {"listing_id": "d", "title": "", "category": "x"},  # empty title: invalid
    {"listing_id": "e", "title": "kopi", "seller_country": "XX"},  # bad country: invalid
]
COLUMNS = [
    "listing_id",
    "title",
    "category",
    "price_amount",
    "seller_country",
    "seller_cross_border",
    "ship_from_country",
]


def _write_csv(path: Path) -> Path:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(ROWS)
    return path


@pytest.fixture
def screener(tiny_model_dir: Path) -> Screener:
    return Screener(load_model(tiny_model_dir), load_policy())


def test_a_csv_is_screened_row_for_row_as_the_service_would(
    tmp_path: Path, tiny_model_dir: Path, screener: Screener
) -> None:
    out = tmp_path / "out.csv"
    summary = screen_file(
        _write_csv(tmp_path / "in.csv"), out, model_dir=tiny_model_dir, progress=False
    )
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["listing_id"] for r in rows] == ["a", "b", "c", "d", "e"]
    expected = screener.screen(
        [
            Listing.model_validate(
                {"listing_id": "a", "title": "kemeja batik pria", "ship_from": {"country": "CN"}}
            ),
            Listing.model_validate(
                {"listing_id": "b", "title": "keripik tempe", "price": {"amount": 15000.0}}
            ),
            Listing.model_validate(
                {"listing_id": "c", "title": "charger 33w", "seller": {"cross_border": True}}
            ),
        ]
    )
    assert expected.cluster is not None
    for row, decision, reasons, cluster in zip(
        rows[:3],
        expected.decisions.tolist(),
        expected.reason_lists(),
        expected.cluster.labels.tolist(),
        strict=True,
    ):
        assert row["decision"] == decision
        assert row["reasons"] == "|".join(reasons)
        assert row["cluster"] == cluster
    assert [(r["decision"], r["reasons"]) for r in rows[3:]] == [("review", "INVALID_LISTING")] * 2
    assert "title" in rows[3]["error"] and "seller_country" in rows[4]["error"]
    assert (summary.rows, summary.invalid) == (5, 2)


def test_jsonl_in_jsonl_out_through_the_command_line(
    tmp_path: Path, tiny_model_dir: Path, screener: Screener
) -> None:
    source = tmp_path / "in.jsonl"
    listings = [
        {"listing_id": str(i), "title": t, "origin_country": "TH"}
        for i, t in enumerate(["dress wanita", "kopi gayo", "mouse wireless"])
    ]
    source.write_text("\n".join(json.dumps(x) for x in listings) + "\nnot json\n")
    out = tmp_path / "out.jsonl"
    assert main(["screen", str(source), "--output", str(out), "--model", str(tiny_model_dir)]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    expected = screener.screen([Listing.model_validate(x) for x in listings])
    assert [g["decision"] for g in got[:3]] == expected.decisions.tolist()
    assert [g["import_probability"] for g in got[:3]] == [1.0, 1.0, 1.0]
    assert got[3]["decision"] == "review" and got[3]["error"].startswith("line 4: not JSON")


def test_other_file_types_are_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    (tmp_path / "in.txt").write_text("x")
    with pytest.raises(ValueError, match="csv or .jsonl"):
        screen_file(
            tmp_path / "in.txt", tmp_path / "out.csv", model_dir=tiny_model_dir, progress=False
        )


@pytest.mark.parametrize(
    ("delimiter", "bom"), [(";", True), (";", False), ("\t", False), (",", True)]
)
def test_a_csv_saved_by_a_spreadsheet_is_read_as_one(
    tmp_path: Path, tiny_model_dir: Path, delimiter: str, bom: bool
) -> None:
    source = tmp_path / "excel.csv"
    with source.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, delimiter=delimiter)
        w.writeheader()
        w.writerows(ROWS)
    out = tmp_path / "out.csv"
    summary = screen_file(source, out, model_dir=tiny_model_dir, progress=False)
    assert (summary.rows, summary.invalid) == (5, 2)  # only the two rows that are invalid
    with out.open(newline="") as f:
        assert [r["listing_id"] for r in csv.DictReader(f)] == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize(
    ("name", "text", "output", "message"),
    [
        ("missing.csv", None, "out.csv", "missing.csv: no such file"),
        ("in.csv", "title\nkopi\n", "out.txt", "out.txt: write a .csv or .jsonl file"),
        ("in.csv", "name;price\nkopi;1\n", "out.csv", "no 'title' column"),
    ],
)
def test_an_unusable_input_or_output_is_an_error_and_writes_nothing(
    tmp_path: Path,
    tiny_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str | None,
    output: str,
    message: str,
) -> None:
    if text is not None:
        (tmp_path / name).write_text(text)
    argv = ["screen", str(tmp_path / name), "--output", str(tmp_path / output)]
    assert main([*argv, "--model", str(tiny_model_dir)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / output).exists()


def test_a_file_without_one_valid_row_exits_non_zero(tmp_path: Path, tiny_model_dir: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("title,seller_country\n,CN\nkopi,XX\n")  # empty title, bad country
    out = tmp_path / "out.csv"
    argv = ["screen", str(source), "--output", str(out), "--model", str(tiny_model_dir)]
    assert main(argv) == 1
    assert len(out.read_text().splitlines()) == 3  # the rows are still written, with errors
