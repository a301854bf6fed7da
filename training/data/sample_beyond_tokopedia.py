"""Draw the hand-checked rows beyond Tokopedia's Indonesian titles (provenance script).

For each of the development and validation sets: 150 Lazada listings (every cross-border
marker row of that set's part of Lazada included) and 100 English-written titles of the
Tokopedia sources. Lazada has no shop column: near-duplicate titles share their first three
words, and such a group is the unit of the split; each group belongs to one part (validation,
development or training) by a stable hash, so a set never shares a group with training or with
the other set. English titles come from shops that have no listing in the other set. The
labels were appended to ../dev/labels.csv and ../validation/labels.csv after their first 421
and 700 rows, which are the sets this sample was drawn apart from.

    python training/data/sample_beyond_tokopedia.py          # set,source,row_id,stratum
    python training/data/sample_beyond_tokopedia.py --show   # + title (terminal only)

Deterministic: rows in file order, each stratum shuffled with its own seeded generator.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from training.data import (
    DEV_LABELS,
    VALIDATION_LABELS,
    Example,
    load_hand_labels,
    load_sources,
)
from training.language import ENGLISH, language

SEED = 20261205
LAZADA = "lazada_items_2019.csv"
LAZADA_ROWS = 150
ENGLISH_ROWS = {
    "tokopedia_umkm_2025.csv": 55,
    "tokopedia_products_2019.csv": 20,
    "tokopedia_electronics_categories.csv": 30,
}
MAX_PER_GROUP = 2
# The surface of Lazada's cross-border suffix, for sampling only (not the service's rule).
_SUFFIX = re.compile(r"(?i)(intl|internasional|international)\W*(\([^)]*\))?\W*$")


def part(group: str) -> str:
    """validation, dev or train for one Lazada group: one sixth each to the two sets."""
    h = int(hashlib.sha256(group.encode()).hexdigest(), 16) % 6
    return {0: "validation", 1: "dev"}.get(h, "train")


def _draw(rows: list[Example], k: int, stratum: str, taken: set[str]) -> list[Example]:
    rows = list(rows)
    random.Random(f"{SEED}:{stratum}").shuffle(rows)
    out: list[Example] = []
    per_group: dict[str, int] = {}
    for e in rows:
        if len(out) >= k:
            break
        if e.row_id in taken or per_group.get(e.group, 0) >= MAX_PER_GROUP:
            continue
        per_group[e.group] = per_group.get(e.group, 0) + 1
        out.append(e)
        taken.add(e.row_id)
    return out


def sample() -> list[tuple[str, Example, str]]:
    examples = load_sources()
    # The sets as they were before this sample was added: the files' first rows.
    old = {
        name: dict(list(load_hand_labels(path).items())[:n])
        for name, path, n in (("validation", VALIDATION_LABELS, 700), ("dev", DEV_LABELS, 421))
    }
    groups_of = {
        name: {e.group for e in examples if (e.source, e.row_id) in labels}
        for name, labels in old.items()
    }
    out: list[tuple[str, Example, str]] = []
    lazada = [e for e in examples if e.source == LAZADA]
    for name in ("validation", "dev"):
        mine = [e for e in lazada if part(e.group) == name]
        markers = [e for e in mine if _SUFFIX.search(e.title)]
        out += [(name, e, "lazada marker") for e in markers]
        taken = {e.row_id for e in markers}
        rest = [e for e in mine if e.row_id not in taken]
        out += [
            (name, e, "lazada")
            for e in _draw(rest, LAZADA_ROWS - len(markers), f"{name}:lazada", taken)
        ]
    for name, other in (("validation", "dev"), ("dev", "validation")):
        for source, k in ENGLISH_ROWS.items():
            pool = [
                e
                for e in examples
                if e.source == source
                and (e.source, e.row_id) not in old["validation"].keys() | old["dev"].keys()
                and e.group not in groups_of[other]
                and language(e.title) == ENGLISH
            ]
            # A shop drawn for one set is kept out of the other.
            taken = {e.row_id for _, e, _ in out}
            drawn = _draw(pool, k, f"{name}:en:{source}", taken)
            groups_of[name] |= {e.group for e in drawn}
            out += [(name, e, "english") for e in drawn]
    return out


def main() -> None:
    show = "--show" in sys.argv[1:]
    out = csv.writer(sys.stdout)
    out.writerow(["set", "source", "row_id", "stratum"] + (["title"] if show else []))
    for name, e, stratum in sample():
        out.writerow([name, e.source, e.row_id, stratum] + ([e.title] if show else []))


if __name__ == "__main__":
    main()
