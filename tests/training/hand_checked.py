"""Tiny hand-checked sets for tests: a source of listings, its configuration, and label files
for a validation and a development set, all written in a temp folder."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import TINY_EXAMPLES

SOURCE = "listings.csv"
# Each tiny example twice: as trained, and with words the tiny model never saw.
LISTINGS = [
    (f"{i}", title, cluster, origin)
    for i, (title, cluster, origin) in enumerate(
        [*TINY_EXAMPLES, *((f"{t} ready stok", c, o) for t, c, o in TINY_EXAMPLES)]
    )
]

# Unlabelled rows, for a training run: the source holds them beside the hand-checked ones.
TRAINING = [(f"t{i}", f"{t} murah", c, o) for i, (t, c, o) in enumerate(TINY_EXAMPLES)]


@dataclass(frozen=True)
class HandChecked:
    sources: Path
    validation: Path
    dev: Path

    def argv(self) -> list[str]:
        return [
            "--sources",
            str(self.sources),
            "--hand-labels",
            str(self.validation),
            "--dev-labels",
            str(self.dev),
        ]


def _labels(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "row_id", "cluster", "origin", "hard", "note"])
        for row_id, _, cluster, origin in rows:
            w.writerow([SOURCE, row_id, cluster, origin, "0", ""])
    return path


def write_hand_checked(folder: Path) -> HandChecked:
    """Validation: the even rows; development: the odd ones."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / SOURCE).open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "cluster", "origin"])
        w.writerows([*LISTINGS, *TRAINING])
    sources = folder / "sources.toml"
    sources.write_text(
        'data_root = "."\n\n[[source]]\n'
        f'path = "{SOURCE}"\n'
        'columns = { id = "id", title = "title" }\n'
        'cluster = { column = "cluster" }\n'
        'origin = { column = "origin" }\n',
        encoding="utf-8",
    )
    return HandChecked(
        sources,
        _labels(folder / "validation.csv", LISTINGS[0::2]),
        _labels(folder / "dev.csv", LISTINGS[1::2]),
    )
