"""Training examples: the real listings in ../shared/data (read in place, never copied), mapped
to the taxonomy, plus the examples we wrote ourselves under training/data/authored/."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.schemas import DataSource
from training import mapping
from training.sources import Config, Source, SourceError, load_config

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
AUTHORED_DIR = REPO_ROOT / "training" / "data" / "authored"
# Our own training examples; the other files in that folder are evaluation sets.
AUTHORED = (AUTHORED_DIR / "examples.csv", AUTHORED_DIR / "examples_marketplaces.csv")
VALIDATION_LABELS = REPO_ROOT / "training" / "data" / "validation" / "labels.csv"
# The development set: hand-checked like the validation set, from other shops, and the one
# that model and training-data choices are made on (the validation set is kept for the end).
DEV_LABELS = REPO_ROOT / "training" / "data" / "dev" / "labels.csv"
# Hand-read cluster labels for training rows whose category-mapped label is doubtful
# (craft-looking goods): they replace the mapping's label in training. Not an evaluation set.
CORRECTIONS = REPO_ROOT / "training" / "data" / "corrections" / "labels.csv"


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


def read_table(source: Source) -> list[dict[str, str]]:
    """A source's rows as strings (CSV, JSON Lines or Parquet); every declared column must
    exist, or the error names the source and the column."""
    path = source.path
    if not path.is_file():
        raise SourceError(f"source {source.name!r}: file {path} does not exist")
    rows: list[dict[str, Any]]
    if source.format == "csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = list(reader.fieldnames or ())
            rows = list(reader)
    elif source.format == "jsonl":
        with path.open(encoding="utf-8") as f:
            try:
                rows = [json.loads(line) for line in f if line.strip()]
            except json.JSONDecodeError as e:
                raise SourceError(f"source {source.name!r}: {path} is not JSON Lines: {e}") from e
        header = sorted({k for r in rows for k in r})
    else:
        try:
            import pyarrow.parquet as pq
        except ImportError as e:  # pragma: no cover - pyarrow comes with the train extra
            raise SourceError(f"source {source.name!r}: reading Parquet needs pyarrow") from e
        rows = pq.read_table(path).to_pylist()
        header = list(rows[0]) if rows else pq.read_schema(path).names
    needed = [*source.columns.values(), *source.origin_structured.values()]
    needed += [c for c in (source.cluster_column, source.origin_column, source.mapping_key) if c]
    missing = [c for c in needed if c not in header]
    if missing:
        raise SourceError(f"source {source.name!r}: {path.name} has no column {missing[0]!r}")
    return [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]


def _group(source: Source, r: dict[str, str], row_id: str, title: str) -> str:
    column = source.columns.get("group")
    if column and r[column].strip():
        return f"{column}:{r[column].strip()}"
    if source.group_title_words:
        return f"{source.name}:" + " ".join(title.lower().split()[: source.group_title_words])
    return f"{source.name}:{row_id}"


def _cluster(source: Source, r: dict[str, str], title: str) -> str | None:
    if source.cluster_label is not None:
        return source.cluster_label
    if source.cluster_column is not None:
        label = r[source.cluster_column].strip()
        if label not in mapping.CLUSTERS:
            raise SourceError(f"source {source.name!r}: unknown cluster label {label!r}")
        return label
    key = r[source.mapping_key or source.columns.get("category", "")]
    return mapping.cluster_from_table(source.mapping_table, key, title)


def _origin(source: Source, r: dict[str, str], title: str) -> str:
    if source.origin_column is not None:
        label = r[source.origin_column].strip()
        if label not in mapping.ORIGINS:
            raise SourceError(f"source {source.name!r}: unknown origin label {label!r}")
        return label
    structured = {k: r[c] for k, c in source.origin_structured.items()}
    return mapping.origin_from_structured(structured) or mapping.origin_from_title(title)


def load_source(source: Source) -> list[Example]:
    """One source, mapped to the taxonomy. A row the mapping leaves out has cluster "" (it
    stays here, for sampling and reports; training drops it)."""
    col = source.columns
    out: list[Example] = []
    for i, r in enumerate(read_table(source)):
        title = r[col["title"]]
        if not title.strip():
            continue
        row_id = r[col["id"]] if "id" in col else str(i)
        category = r[col["category"]] if "category" in col else ""
        cluster = _cluster(source, r, title)
        extra = {"weight": str(source.weight)} if source.weight != 1.0 else {}
        out.append(
            Example(
                source.name,
                row_id,
                title,
                category,
                _group(source, r, row_id, title),
                cluster or "",
                _origin(source, r, title),
                extra=extra,
            )
        )
    return out


def load_sources(config: Config | None = None, limit: int | None = None) -> list[Example]:
    """Every source of a configuration (the default one: ../shared/data), `limit` rows each."""
    config = config or load_config()
    out: list[Example] = []
    for source in config.sources:
        rows = load_source(source)
        out += rows[:limit] if limit else rows
    return out


def load_sources_by_name(config: Config | None = None) -> dict[str, list[Example]]:
    """Every source of a configuration, by source name."""
    config = config or load_config()
    return {source.name: load_source(source) for source in config.sources}


def load_authored(paths: Iterable[Path] = AUTHORED) -> list[Example]:
    """Our own examples (handicraft, import evidence and its hard negatives), from every
    file given; a missing file is an error."""
    out = []
    rows = [r for path in paths for _, r in _rows(path)]
    for i, r in enumerate(rows):
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


def data_sources(config: Config, authored: Iterable[Path] = ()) -> list[DataSource]:
    """Provenance for the manifest: each source's name (or our file's path), sha256 and rows."""
    out = []
    for source in config.sources:
        digest = hashlib.sha256(source.path.read_bytes()).hexdigest()
        out.append(DataSource(name=source.name, sha256=digest, rows=len(read_table(source))))
    for path in authored:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        rows = sum(1 for _ in _rows(path))
        out.append(DataSource(name=_display(path), sha256=digest, rows=rows))
    return out
