"""Draw the hand-checked validation sample (provenance script).

Reads the third-party Tokopedia scrapes from ../shared/data (relative to the repository
root) and prints the sampled (source, row_id) pairs as CSV on stdout. It writes nothing into
the repository: titles and rows must never be copied here; labels.csv refers to rows by id.

Standard library only. Deterministic: a fixed seed, rows read in file order, every stratum
shuffled with its own seeded generator, so a re-run yields the same sample.

    python training/data/validation/sample_validation.py            # source,row_id,stratum
    python training/data/validation/sample_validation.py --show  # + title, category (terminal)
"""

from __future__ import annotations

import csv
import random
import re
import sys
from collections import Counter
from pathlib import Path

SEED = 20251207
MAX_PER_SHOP = 3
DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"

UMKM = "tokopedia_umkm_2025.csv"
P2019 = "tokopedia_products_2019.csv"
ELEC = "tokopedia_electronics_categories.csv"
SEBLAK = "tokopedia_seblak.csv"

CRAFT_CATS = ("rumah-tangga/dekorasi", "office-stationery/kerajinan-tangan")
CRAFT_WORDS = re.compile(
    r"anyaman|rotan|bambu|ukir|gerabah|wayang|handmade|rajut|manik|souvenir", re.I
)
# Import / country words, split into sub-buckets so that the frequent 'original' and
# 'korea' do not crowd out the rarer, more informative words.
IMPORT_BUCKETS = [
    ("import", re.compile(r"\b(import|impor)\b", re.I), 25),
    (
        "country",
        re.compile(
            r"\b(china|jepang|japan|thailand|bangkok|turki|turkey|india|"
            r"malaysia|usa|made in)\b",
            re.I,
        ),
        22,
    ),
    ("korea", re.compile(r"\bkorea\b", re.I), 10),
    ("original", re.compile(r"\b(ori|original)\b", re.I), 13),
]
# Remaining UMKM strata: (name, predicate on the category path, size).
UMKM_REST = [
    ("fashion-pria", lambda c: c.startswith("fashion-pria/"), 50),
    ("fashion-wanita", lambda c: c.startswith("fashion-wanita/"), 50),
    ("fashion-anak-bayi", lambda c: c.startswith("fashion-anak-bayi/"), 30),
    ("fashion-muslim", lambda c: c.startswith("fashion-muslim/"), 30),
    ("makanan-minuman", lambda c: c.startswith("makanan-minuman/"), 70),
    ("beauty-care", lambda c: c.startswith(("kecantikan/", "perawatan-tubuh/")), 30),
    (
        "rumah-tangga-other",
        lambda c: c.startswith("rumah-tangga/") and not c.startswith(CRAFT_CATS),
        10,
    ),
    (
        "other-categories",
        lambda c: (
            not c.startswith(
                ("fashion-", "makanan-minuman/", "kecantikan/", "perawatan-tubuh/", "rumah-tangga/")
            )
        ),
        40,
    ),
]
P2019_STRATA = [
    ("fashion", 40),
    ("elektronik", 20),
    ("handphone", 20),
    ("olahraga", 15),
    ("pertukangan", 5),
]
ELEC_TRAD = re.compile(
    r"kendang|gendang|rebana|angklung|gamelan|kolintang|sasando|bonang|saron|kecapi|suling|"
    r"tifa|marawis|hadroh|hadrah|bedug|calung|kentongan|gong",
    re.I,
)
ELEC_NODE_SIZE = 18  # per node (4 nodes) = 72, plus 8 traditional-instrument candidates
ELEC_TRAD_SIZE = 8
SEBLAK_SIZE = 60


def read(name):
    with open(DATA / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


class Sampler:
    def __init__(self):
        self.taken = set()  # (source, row_id)
        self.shops = Counter()  # (source, shop) -> count
        self.out = []  # (source, row_id, stratum, title, category)

    def draw(self, source, rows, n, stratum, key, title, cat, shop=None):
        """rows: candidate dicts in file order; shuffled with a per-stratum seed."""
        rows = list(rows)
        random.Random(f"{SEED}:{source}:{stratum}").shuffle(rows)
        got = 0
        for r in rows:
            if got >= n:
                break
            rid = key(r)
            if (source, rid) in self.taken:
                continue
            s = shop(r) if shop else ""
            if s and self.shops[(source, s)] >= MAX_PER_SHOP:
                continue
            self.taken.add((source, rid))
            if s:
                self.shops[(source, s)] += 1
            self.out.append((source, rid, stratum, title(r), cat(r)))
            got += 1
        if got < n:
            print(f"warning: stratum {stratum} gave {got}/{n}", file=sys.stderr)


def main():
    s = Sampler()

    umkm = read(UMKM)
    kw = {
        "key": lambda r: r["id"],
        "title": lambda r: r["name"],
        "cat": lambda r: r["category_breadcrumb"],
        "shop": lambda r: r["shop_id"],
    }
    s.draw(
        UMKM,
        [r for r in umkm if r["category_breadcrumb"].startswith(CRAFT_CATS)],
        45,
        "craft-category",
        **kw,
    )
    s.draw(UMKM, [r for r in umkm if CRAFT_WORDS.search(r["name"])], 35, "craft-words", **kw)
    for name, rx, n in IMPORT_BUCKETS:
        s.draw(UMKM, [r for r in umkm if rx.search(r["name"])], n, f"import-{name}", **kw)
    for name, pred, n in UMKM_REST:
        s.draw(UMKM, [r for r in umkm if pred(r["category_breadcrumb"])], n, name, **kw)

    p = read(P2019)
    kw = {
        "key": lambda r: r["product_id"],
        "title": lambda r: r["product_name"],
        "cat": lambda r: r["category"],
        "shop": lambda r: r["shop_id"],
    }
    for cat, n in P2019_STRATA:
        s.draw(P2019, [r for r in p if r["category"] == cat], n, f"p2019-{cat}", **kw)

    e = read(ELEC)
    for i, r in enumerate(e):
        r["_idx"] = str(i)
    kw = {"key": lambda r: r["_idx"], "title": lambda r: r["nama"], "cat": lambda r: r["leaf"]}
    s.draw(
        ELEC,
        [r for r in e if ELEC_TRAD.search(r["nama"])],
        ELEC_TRAD_SIZE,
        "elec-traditional",
        **kw,
    )
    for node in sorted({r["node"] for r in e}):
        s.draw(ELEC, [r for r in e if r["node"] == node], ELEC_NODE_SIZE, f"elec-{node}", **kw)

    sb = read(SEBLAK)
    for i, r in enumerate(sb):
        r["_idx"] = str(i)
    s.draw(
        SEBLAK,
        sb,
        SEBLAK_SIZE,
        "seblak",
        key=lambda r: r["_idx"],
        title=lambda r: r["nama produk"],
        cat=lambda r: "seblak",
        shop=lambda r: r["penjual"].strip(),
    )

    show = "--show" in sys.argv
    w = csv.writer(sys.stdout)
    w.writerow(["source", "row_id", "stratum"] + (["title", "category"] if show else []))
    for src, rid, stratum, title, cat in s.out:
        w.writerow([src, rid, stratum] + ([title, cat] if show else []))
    print(
        f"sampled {len(s.out)} rows: "
        + ", ".join(f"{k}={v}" for k, v in sorted(Counter(o[0] for o in s.out).items())),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
