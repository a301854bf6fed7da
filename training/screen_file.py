"""`python -m training screen FILE`: screen a CSV or JSONL file of listings on this machine.

The offline twin of `/v1/screen/batch` (and a one-machine `rescreen`): the same verified model
and policy, the same vectorised `Screener.screen` in chunks of 1,000, the same output columns
and invalid-row handling as the Spark job (`training/rescreen/layout.py`), with a progress bar.

Input: `.csv` with the flat catalogue columns (`title`, `price_amount`, `seller_country`, ...),
empty cells as missing; or `.jsonl`, one listing per line as the API takes it (nested objects).
Output: `.csv` (reasons joined by `|`) or `.jsonl`, one row per input row, in order.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tqdm import tqdm

from app.schemas import Listing
from app.screening.policy import load_policy
from app.screening.screener import Screener
from app.screening.store import load_model, resolve_model_dir
from training.rescreen.layout import (
    CHUNK,
    OUTPUT_COLUMNS,
    invalid_row,
    result_rows,
    validate,
)

# Separators a spreadsheet may save a CSV with (Excel uses ';' where ',' is the decimal mark).
CSV_DELIMITERS = ",;\t|"


class ScreenFileError(ValueError):
    """The input or output cannot be used: missing, wrong extension, no title column."""


@dataclass
class ScreenSummary:
    rows: int = 0
    invalid: int = 0
    decisions: dict[str, int] | None = None


def _json_row(n: int, line: str) -> tuple[Any, Listing | str]:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"line {n}: not JSON: {exc.msg}"
    listing_id = raw.get("listing_id") if isinstance(raw, dict) else None
    try:
        return listing_id, Listing.model_validate(raw)
    except ValidationError as exc:
        return listing_id, "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )


def _rows(path: Path) -> Iterator[tuple[Any, Listing | str]]:
    """(listing_id, Listing or the validation message) for each input row."""
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    yield _json_row(n, line)
    elif path.suffix == ".csv":
        # utf-8-sig: a byte-order mark (Excel writes one) is not part of the first column's name.
        with path.open(encoding="utf-8-sig", newline="") as f:
            dialect = _dialect(f.readline(), path)
            f.seek(0)
            for row in csv.DictReader(f, dialect=dialect):
                flat = {k: (v if v != "" else None) for k, v in row.items()}
                yield flat.get("listing_id"), validate(flat)


def _dialect(header: str, path: Path) -> type[csv.Dialect]:
    """The CSV dialect, from the header line: it must name a `title` column."""
    try:
        dialect = csv.Sniffer().sniff(header, delimiters=CSV_DELIMITERS)
    except csv.Error:
        dialect = csv.excel  # a single column
    columns = next(csv.reader([header], dialect))
    if "title" not in columns:
        raise ScreenFileError(f"{path}: no 'title' column (columns: {columns})")
    return dialect


def _check_paths(source: Path, output: Path) -> None:
    if source.suffix not in (".csv", ".jsonl"):
        raise ScreenFileError(f"{source}: give a .csv or .jsonl file")
    if output.suffix not in (".csv", ".jsonl"):
        raise ScreenFileError(f"{output}: write a .csv or .jsonl file")
    if not source.is_file():
        raise ScreenFileError(f"{source}: no such file")


def _writer(path: Path) -> tuple[Any, Any]:
    f = path.open("w", encoding="utf-8", newline="")
    if path.suffix == ".csv":
        w = csv.writer(f)
        w.writerow(OUTPUT_COLUMNS)

        def write(row: tuple[Any, ...]) -> None:
            values = list(row)
            values[OUTPUT_COLUMNS.index("reasons")] = "|".join(values[7])
            w.writerow(["" if v is None else v for v in values])
    elif path.suffix == ".jsonl":

        def write(row: tuple[Any, ...]) -> None:
            f.write(json.dumps(dict(zip(OUTPUT_COLUMNS, row, strict=True)), ensure_ascii=False))
            f.write("\n")
    else:
        f.close()
        raise ScreenFileError(f"{path}: write a .csv or .jsonl file")
    return f, write


def screen_file(
    source: Path,
    output: Path,
    *,
    model_dir: Path | None = None,
    policy: Path | None = None,
    models_root: Path = Path("models"),
    progress: bool = True,
) -> ScreenSummary:
    _check_paths(source, output)
    rows = _rows(source)
    first = next(rows, None)  # reads the header: a bad input fails before anything is written
    screener = Screener(load_model(resolve_model_dir(model_dir, models_root)), load_policy(policy))
    summary = ScreenSummary(decisions={})
    pending: list[tuple[Any, Listing | str]] = []
    f, write = _writer(output)

    def flush() -> None:
        listings = [x for _, x in pending if isinstance(x, Listing)]
        results = iter(result_rows(screener.screen(listings)))
        for listing_id, checked in pending:
            if isinstance(checked, Listing):
                row = next(results)
            else:
                summary.invalid += 1
                row = invalid_row(
                    listing_id,
                    checked,
                    mode=screener.policy.mode,
                    model_version=screener.model_version,
                    policy_version=screener.policy.version,
                )
            assert summary.decisions is not None
            summary.decisions[row[1]] = summary.decisions.get(row[1], 0) + 1
            write(row)
        pending.clear()

    remaining = chain([first], rows) if first is not None else iter(())
    with f, tqdm(remaining, unit=" listings", disable=not progress) as progress_rows:
        for item in progress_rows:
            pending.append(item)
            summary.rows += 1
            if len(pending) == CHUNK:
                flush()
        flush()
    return summary
