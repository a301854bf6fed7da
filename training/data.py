"""Training examples: the real listings in ../shared/data (read in place, never copied), mapped
to the taxonomy, plus the examples we wrote ourselves under training/data/authored/."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.schemas import DataSource
from training import mapping

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
AUTHORED = REPO_ROOT / "training" / "data" / "authored" / "examples.csv"
VALIDATION_LABELS = REPO_ROOT / "training" / "data" / "validation" / "labels.csv"
# The development set: hand-checked like the validation set, from other shops, and the one
# that model and training-data choices are made on (the validation set is kept for the end).
DEV_LABELS = REPO_ROOT / "training" / "data" / "dev" / "labels.csv"
# Hand-read cluster labels for training rows whose category-mapped label is doubtful
# (craft-looking goods): they replace the mapping's label in training. Not an evaluation set.
CORRECTIONS = REPO_ROOT / "training" / "data" / "corrections" / "labels.csv"

UMKM = "tokopedia_umkm_2025.csv"
PRODUCTS_2019 = "tokopedia_products_2019.csv"
ELECTRONICS = "tokopedia_electronics_categories.csv"
SEBLAK = "tokopedia_seblak.csv"
SOURCES = (UMKM, PRODUCTS_2019, ELECTRONICS, SEBLAK)


@dataclass(frozen=True, slots=True)
class Example:
    source: str
    row_id: str
    title: str
    category: str  # the marketplace's category path, "" when unknown
    group: str  # the shop (or nearest stand-in): train/validation split never divides one
    cluster: str  # "" where the mapping finds the row too ambiguous to train on
    origin: str
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def listing(self, *, with_category: bool = True) -> dict[str, str]:
        """The listing as the service would receive it."""
        out = {"title": self.title}
        if with_category and self.category:
            out["category"] = self.category
        return out


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        yield from enumerate(csv.DictReader(f))


def load_source(name: str, data_dir: Path = SHARED_DATA) -> list[Example]:
    """One real source file, mapped to the taxonomy; ambiguous rows are left out."""
    path = data_dir / name
    out: list[Example] = []
    for i, r in _rows(path):
        if name == UMKM:
            title, category, group = r["name"], r["category_breadcrumb"], f"shop:{r['shop_id']}"
            cluster = mapping.cluster_from_category(category, title)
            row_id = r["id"]
        elif name == PRODUCTS_2019:
            title, category, group = r["product_name"], "", f"shop:{r['shop_id']}"
            cluster = mapping.cluster_from_2019_category(r["category"], title)
            row_id = r["product_id"]
        elif name == ELECTRONICS:
            title, category, row_id = r["nama"], r["leaf"], str(i)
            cluster = mapping.cluster_from_electronics(r["node"], title)
            # No shop column: near-identical titles share their first two words (the brand).
            group = "elec:" + " ".join(title.lower().split()[:2])
        elif name == SEBLAK:
            title, category, row_id = r["nama produk"], "", str(i)
            cluster = mapping.CULINARY
            group = f"shop:{r['penjual']}" if r["penjual"].strip() else f"seblak:{i}"
        else:
            raise ValueError(f"unknown source {name}")
        if not title.strip():
            continue
        origin = mapping.origin_from_title(title)
        out.append(Example(name, row_id, title, category, group, cluster or "", origin))
    return out


def load_authored(path: Path = AUTHORED) -> list[Example]:
    """Our own examples (handicraft, import evidence and its hard negatives)."""
    out = []
    for i, r in _rows(path):
        out.append(
            Example(
                "authored",
                str(i),
                r["title"],
                "",
                f"authored:{i}",
                r["cluster"],
                r["origin"],
                extra={"kind": r.get("kind", "")},
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class HandLabel:
    source: str
    row_id: str
    cluster: str
    origin: str
    hard: bool


def load_hand_labels(path: Path = VALIDATION_LABELS) -> dict[tuple[str, str], HandLabel]:
    if not path.is_file():
        return {}
    out = {}
    for _, r in _rows(path):
        label = HandLabel(r["source"], r["row_id"], r["cluster"], r["origin"], r["hard"] == "1")
        out[(label.source, label.row_id)] = label
    return out


def load_corrections(path: Path = CORRECTIONS) -> dict[tuple[str, str], str]:
    """(source, row_id) -> cluster read by a person; {} when the file is absent."""
    if not path.is_file():
        return {}
    return {(r["source"], r["row_id"]): r["cluster"] for _, r in _rows(path)}


def apply_corrections(
    examples: Iterable[Example], corrections: dict[tuple[str, str], str]
) -> list[Example]:
    """The examples, with the hand-read cluster where there is one."""
    return [
        replace(e, cluster=corrections[e.source, e.row_id])
        if (e.source, e.row_id) in corrections
        else e
        for e in examples
    ]


def split_off_validation_and_dev(
    examples: Iterable[Example],
    validation: dict[tuple[str, str], HandLabel],
    dev: dict[tuple[str, str], HandLabel],
) -> tuple[list[Example], list[Example], list[Example]]:
    """(training pool, validation set, development set): the shops of both hand-checked sets
    leave the training pool."""
    if validation.keys() & dev.keys():
        raise ValueError("a listing is in both the validation and the development set")
    pool, checked = split_off_hand_checked(examples, validation | dev)
    return (
        pool,
        [e for e in checked if (e.source, e.row_id) in validation],
        [e for e in checked if (e.source, e.row_id) in dev],
    )


def training_sets(
    examples: Iterable[Example],
    validation: Path | None,
    dev: Path | None,
    corrections: Path | None,
) -> tuple[list[Example], list[Example], list[Example]]:
    """(training pool, validation set, development set) from the label files (None: none):
    both sets' shops leave the pool, and the pool carries the hand-read corrections. Training
    and the evaluation's baselines both take their pool from here, so it is the same one."""
    pool, checked, development = split_off_validation_and_dev(
        examples,
        load_hand_labels(validation) if validation else {},
        load_hand_labels(dev) if dev else {},
    )
    fixes = load_corrections(corrections) if corrections else {}
    return apply_corrections(pool, fixes), checked, development


def split_off_hand_checked(
    examples: Iterable[Example], labels: dict[tuple[str, str], HandLabel]
) -> tuple[list[Example], list[Example]]:
    """(training pool, hand-checked set). Every shop with a hand-checked listing leaves the
    training pool, so the validation set never sees a shop the model learned from."""
    examples = list(examples)
    held_groups = {e.group for e in examples if (e.source, e.row_id) in labels}
    pool = [e for e in examples if e.group not in held_groups and e.cluster]
    checked = []
    for e in examples:
        label = labels.get((e.source, e.row_id))
        if label is not None:
            checked.append(
                Example(
                    e.source,
                    e.row_id,
                    e.title,
                    e.category,
                    e.group,
                    label.cluster,
                    label.origin,
                    extra={"hard": "1" if label.hard else "0"},
                )
            )
    return pool, checked


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return path.name


def data_sources(names: Iterable[str], data_dir: Path = SHARED_DATA) -> list[DataSource]:
    """Provenance for the manifest: file name, sha256 and row count."""
    out = []
    for name in names:
        path = data_dir / name if name in SOURCES else Path(name)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        rows = sum(1 for _ in _rows(path))
        label = name if name in SOURCES else _display(path)
        out.append(DataSource(name=label, sha256=digest, rows=rows))
    return out
