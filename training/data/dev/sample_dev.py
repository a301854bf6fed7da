"""Draw the hand-checked development sample (provenance script).

The development set is for choosing between models and training-data changes; the
validation set (../validation) is kept for the final figures and is not used for choices.
Rows come only from shops that have no listing in the validation set, at most 2 per shop, so
the two sets share no shop. Labels are made by reading each title against TAXONOMY.md and are
stored by (source, row_id) in labels.csv; no title is written into the repository.

    python training/data/dev/sample_dev.py            # source,row_id,stratum on stdout
    python training/data/dev/sample_dev.py --show     # + title, category (terminal only)

Deterministic: rows in file order, each stratum shuffled with its own seeded generator.
"""

from __future__ import annotations

import csv
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from training.data import (
    VALIDATION_LABELS,
    Example,
    load_hand_labels,
    load_sources_by_name,
)
from training.mapping import _FASHION_ITEM

UMKM = "tokopedia_umkm_2025.csv"
PRODUCTS_2019 = "tokopedia_products_2019.csv"
ELECTRONICS = "tokopedia_electronics_categories.csv"
SEBLAK = "tokopedia_seblak.csv"
SOURCES = (UMKM, PRODUCTS_2019, ELECTRONICS, SEBLAK)
SEED = 20261128
MAX_PER_SHOP = 2

CRAFT_CATS = ("rumah-tangga/dekorasi", "office-stationery/kerajinan-tangan")
CRAFT_WORDS = re.compile(
    r"anyaman|rotan|bambu|ukir|gerabah|wayang|handmade|rajut|manik|souvenir|kerajinan|etnik|"
    r"tenun|lukis|batok|miniatur|sulam|makrame|macrame",
    re.I,
)
TOY_CRAFT = re.compile(r"\b(mainan|toys?|diy|kit)\b", re.I)
IMPORT = re.compile(r"\b(import|impor|imported)\b", re.I)
COUNTRY = re.compile(
    r"\b(china|jepang|japan|thailand|bangkok|turki|turkey|india|malaysia|usa|korea|taiwan|"
    r"vietnam|made in|ori|original)\b",
    re.I,
)

Pred = Callable[[Example], bool]


def strata() -> list[tuple[str, str, Pred, int]]:
    def cat(*prefixes: str) -> Pred:
        return lambda e: e.category.startswith(prefixes)

    return [
        (UMKM, "craft-category", cat(*CRAFT_CATS), 40),
        (UMKM, "craft-words", lambda e: bool(CRAFT_WORDS.search(e.title)), 40),
        (UMKM, "jewellery", lambda e: "/perhiasan-" in e.category, 20),
        (UMKM, "toy-or-kit", lambda e: bool(TOY_CRAFT.search(e.title)), 15),
        (UMKM, "import-words", lambda e: bool(IMPORT.search(e.title)), 25),
        (UMKM, "country-words", lambda e: bool(COUNTRY.search(e.title)), 25),
        (UMKM, "fashion", cat("fashion-"), 70),
        (UMKM, "food", cat("makanan-minuman/"), 35),
        (UMKM, "everything-else", lambda e: not e.category.startswith("fashion-"), 45),
        (PRODUCTS_2019, "fashion", lambda e: e.cluster == "textile_fashion", 25),
        (PRODUCTS_2019, "fashion-words-elsewhere", lambda e: e.cluster == "", 10),
        (PRODUCTS_2019, "not-fashion", lambda e: e.cluster == "other", 25),
        (ELECTRONICS, "fashion-words", lambda e: bool(_FASHION_ITEM.search(e.title.lower())), 15),
        (ELECTRONICS, "any", lambda e: True, 30),
        (SEBLAK, "any", lambda e: True, 10),
    ]


def main(argv: Sequence[str]) -> None:
    by_name = load_sources_by_name()
    examples = {name: by_name[name] for name in SOURCES}
    # Load every row, the ones the mapping leaves out too: a real listing may be any of them.
    held = load_hand_labels(VALIDATION_LABELS)
    validation_groups = {
        e.group for rows in examples.values() for e in rows if (e.source, e.row_id) in held
    }
    taken: set[tuple[str, str]] = set()
    per_shop: Counter[str] = Counter()
    out: list[tuple[Example, str]] = []
    for source, name, pred, n in strata():
        rows = [e for e in examples[source] if e.group not in validation_groups and pred(e)]
        random.Random(f"{SEED}:{source}:{name}").shuffle(rows)
        got = 0
        for e in rows:
            if got == n:
                break
            if (e.source, e.row_id) in taken or per_shop[e.group] >= MAX_PER_SHOP:
                continue
            taken.add((e.source, e.row_id))
            per_shop[e.group] += 1
            out.append((e, f"{source.removesuffix('.csv')}:{name}"))
            got += 1
        if got < n:
            print(f"warning: stratum {source}:{name} gave {got}/{n}", file=sys.stderr)
    show = "--show" in argv
    w = csv.writer(sys.stdout)
    w.writerow(["source", "row_id", "stratum"] + (["title", "category"] if show else []))
    for e, stratum in out:
        w.writerow([e.source, e.row_id, stratum] + ([e.title, e.category] if show else []))
    print(f"sampled {len(out)} rows", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
