"""The page's JavaScript: valid syntax, and its CSV reading agrees with Python's csv module.
Run with Node.js, which this kind of machine has; skipped where it is missing."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest

from app.ui import STATIC_DIR

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node (Node.js) is not installed")


def _node(script: str) -> str:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", script], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


@needs_node
@pytest.mark.parametrize("name", sorted(p.name for p in STATIC_DIR.glob("*.js")))
def test_the_script_parses(name: str) -> None:
    assert NODE is not None
    done = subprocess.run([NODE, "--check", str(STATIC_DIR / name)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


def _listings(text: str) -> list[dict[str, object]]:
    source = (STATIC_DIR / "csv.js").read_text(encoding="utf-8")
    script = f"{source}\nprocess.stdout.write(JSON.stringify(AkarCsv.listings({json.dumps(text)})))"
    result: list[dict[str, object]] = json.loads(_node(script))
    return result


@needs_node
def test_csv_rows_become_the_listings_the_api_takes() -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["Listing_ID", "title", "price_amount", "seller_cross_border", "ship_from_country"]
    )
    writer.writerow(["A-1", 'Sambal "Pedas", Botol', "15000", "ya", "cn"])
    writer.writerow(["A-2", "Kain tenun\nikat NTT", "", "false", ""])
    writer.writerow(["", "", "", "", ""])  # a blank row is no listing
    writer.writerow(["A-3", "  Kopi Gayo  ", "", "", ""])
    assert _listings(out.getvalue()) == [
        {
            "listing_id": "A-1",
            "title": 'Sambal "Pedas", Botol',
            "price": {"amount": 15000},
            "seller": {"cross_border": True},
            "ship_from": {"country": "cn"},
        },
        {"listing_id": "A-2", "title": "Kain tenun\nikat NTT", "seller": {"cross_border": False}},
        {"listing_id": "A-3", "title": "Kopi Gayo"},
    ]


@needs_node
def test_lines_without_a_title_header_are_one_title_each() -> None:
    text = 'Kemeja Batik, Pria\n\n  Coklat Import Turki \r\nKeripik "Tempe"\n'
    assert _listings(text) == [
        {"title": "Kemeja Batik, Pria"},
        {"title": "Coklat Import Turki"},
        {"title": 'Keripik "Tempe"'},
    ]


@needs_node
def test_written_csv_reads_back_and_formulas_stay_text() -> None:
    source = (STATIC_DIR / "csv.js").read_text(encoding="utf-8")
    rows = [["a,b", 'say "hi"', "=SUM(A1)", "line\nbreak", None, 0.5]]
    script = (
        f"{source}\nprocess.stdout.write(AkarCsv.format(['x','y','z','w','v','u'], "
        f"{json.dumps(rows)}))"
    )
    back = list(csv.reader(io.StringIO(_node(script), newline="")))
    assert back == [
        ["x", "y", "z", "w", "v", "u"],
        ["a,b", 'say "hi"', "'=SUM(A1)", "line\nbreak", "", "0.5"],
    ]
