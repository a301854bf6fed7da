"""Training sources as configuration: which files, their columns, and how labels are made.

One TOML file (`training/sources.toml` by default) declares every source. A marketplace that
trains on its own catalogue export writes such a file and a mapping table; no Python changes.
Everything about a source that the loader needs is checked here, before a row is read, and
every error names the source and the field.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training import mapping

DEFAULT_CONFIG = Path(__file__).resolve().parent / "sources.toml"
FORMATS = ("csv", "jsonl", "parquet")
# The columns a source may map; `title` is the only one every source must have.
COLUMNS = ("id", "title", "category", "description", "brand", "group", "price")
# Structured origin columns, first match wins: they decide origin where a row fills them.
ORIGIN_COLUMNS = ("cross_border", "ship_from", "seller_country")


class SourceError(Exception):
    """A configuration or a source that cannot be read as declared."""


@dataclass(frozen=True, slots=True)
class MappingRow:
    prefix: str  # lower-case category path prefix; the longest match wins
    cluster: str | None  # None: the rule alone decides
    rule: str | None


@dataclass(frozen=True, slots=True)
class Source:
    name: str  # what hand labels and reports call it: the file name by default
    path: Path
    format: str
    columns: dict[str, str]  # our name -> the file's column
    # How the cluster is made: a fixed label, a label column, or a mapping table.
    cluster_label: str | None = None
    cluster_column: str | None = None
    mapping_key: str | None = None  # the column the mapping table reads (default: category)
    mapping_table: tuple[MappingRow, ...] = ()
    mapping_path: Path | None = None
    origin_column: str | None = None  # a label column (domestic/import)
    origin_structured: dict[str, str] = field(default_factory=dict)
    group_title_words: int = 0  # no group column: titles sharing their first words are a group
    weight: float = 1.0
    licence: str = ""


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    data_root: Path
    sources: tuple[Source, ...]


def _table(path: Path, where: str) -> tuple[MappingRow, ...]:
    if not path.is_file():
        raise SourceError(f"{where}: mapping table {path} does not exist")
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"category", "cluster"} - set(reader.fieldnames or ())
        if missing:
            raise SourceError(f"{where}: mapping table {path} has no column {sorted(missing)}")
        for line, r in enumerate(reader, start=2):
            cluster = (r.get("cluster") or "").strip() or None
            rule = (r.get("rule") or "").strip() or None
            at = f"{where}: mapping table {path.name} line {line}"
            if cluster is not None and cluster not in mapping.CLUSTERS:
                raise SourceError(f"{at}: unknown cluster label {cluster!r}")
            if rule is not None and rule not in mapping.RULES:
                raise SourceError(f"{at}: unknown rule {rule!r} (known: {sorted(mapping.RULES)})")
            if cluster is None and rule is None:
                raise SourceError(f"{at}: neither a cluster nor a rule")
            rows.append(MappingRow(r["category"].strip().lower(), cluster, rule))
    return tuple(rows)


def _get(table: dict[str, Any], key: str, kind: type, where: str, default: Any = None) -> Any:
    value = table.get(key, default)
    if value is not None and not isinstance(value, kind):
        raise SourceError(f"{where}: {key} must be a {kind.__name__}, not {value!r}")
    return value


def _source(raw: dict[str, Any], config_dir: Path, data_root: Path, i: int) -> Source:
    where = f"source #{i + 1}"
    path_text = _get(raw, "path", str, where)
    if not path_text:
        raise SourceError(f"{where}: no path")
    base = config_dir if _get(raw, "base", str, where, "data_root") == "config" else data_root
    path = (base / path_text).resolve()
    name = _get(raw, "name", str, where) or Path(path_text).name
    where = f"source {name!r}"
    fmt = _get(raw, "format", str, where) or path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise SourceError(f"{where}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    columns = _get(raw, "columns", dict, where, {})
    unknown = set(columns) - set(COLUMNS)
    if unknown:
        raise SourceError(f"{where}: unknown column role {sorted(unknown)} (known: {COLUMNS})")
    if "title" not in columns:
        raise SourceError(f"{where}: columns.title is required")
    cluster = _get(raw, "cluster", dict, where, {})
    origin = _get(raw, "origin", dict, where, {})
    label = _get(cluster, "label", str, where)
    if label is not None and label not in mapping.CLUSTERS:
        raise SourceError(f"{where}: unknown cluster label {label!r}")
    table_path = _get(cluster, "mapping", str, where)
    ways = [label is not None, "column" in cluster, table_path is not None]
    if sum(ways) != 1:
        raise SourceError(f"{where}: cluster needs exactly one of label, column or mapping")
    mapping_path = (config_dir / table_path).resolve() if table_path else None
    structured = {k: origin[k] for k in ORIGIN_COLUMNS if k in origin}
    unknown = set(origin) - set(ORIGIN_COLUMNS) - {"column"}
    if unknown:
        raise SourceError(f"{where}: unknown origin key {sorted(unknown)}")
    weight = float(_get(raw, "weight", (int, float), where, 1.0))  # type: ignore[arg-type]
    if weight <= 0:
        raise SourceError(f"{where}: weight must be positive")
    return Source(
        name=name,
        path=path,
        format=fmt,
        columns=dict(columns),
        cluster_label=label,
        cluster_column=_get(cluster, "column", str, where),
        mapping_key=_get(cluster, "key", str, where),
        mapping_table=_table(mapping_path, where) if mapping_path else (),
        mapping_path=mapping_path,
        origin_column=_get(origin, "column", str, where),
        origin_structured=structured,
        group_title_words=int(_get(raw, "group_title_words", int, where, 0)),
        weight=weight,
        licence=_get(raw, "licence", str, where, ""),
    )


def load_config(path: Path = DEFAULT_CONFIG, data_root: Path | None = None) -> Config:
    """The configuration at `path`; `data_root` overrides the file's own `data_root`."""
    if not path.is_file():
        raise SourceError(f"configuration {path} does not exist")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SourceError(f"configuration {path}: {e}") from e
    config_dir = path.resolve().parent
    root = data_root or (config_dir / raw.get("data_root", ".")).resolve()
    entries = raw.get("source", [])
    if not isinstance(entries, list) or not entries:
        raise SourceError(f"configuration {path}: no [[source]] declared")
    sources = tuple(_source(e, config_dir, root, i) for i, e in enumerate(entries))
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise SourceError(f"configuration {path}: two sources share a name")
    return Config(path.resolve(), root, sources)
