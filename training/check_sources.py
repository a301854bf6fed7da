"""`python -m training sources`: what a training-source configuration gives, before training.

For each source: whether its file and columns are there, its rows per cluster and origin, the
rows a rule leaves out, and the categories that no row of its mapping table covers (with
counts and example titles, so the table can be completed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from training import data, mapping
from training.sources import Config, Source, SourceError

EXAMPLES = 3
UNMAPPED_SHOWN = 20


@dataclass
class SourceCheck:
    name: str
    error: str | None = None
    rows: int = 0
    clusters: Counter[str] = field(default_factory=Counter)
    origins: Counter[str] = field(default_factory=Counter)
    left_out: int = 0
    unmapped: dict[str, list[str]] = field(default_factory=dict)  # category -> titles


@dataclass
class Check:
    config: Config
    sources: list[SourceCheck]

    @property
    def ok(self) -> bool:
        return all(s.error is None for s in self.sources)


def _unmapped(source: Source, rows: list[dict[str, str]]) -> dict[str, list[str]]:
    if not source.mapping_table:
        return {}
    key_column = source.mapping_key or source.columns.get("category", "")
    out: dict[str, list[str]] = {}
    for r in rows:
        key = r[key_column].strip().lower()
        if mapping.table_row(source.mapping_table, key) is None:
            out.setdefault(key, []).append(r[source.columns["title"]])
    return dict(sorted(out.items(), key=lambda kv: -len(kv[1])))


def check_source(source: Source) -> SourceCheck:
    result = SourceCheck(source.name)
    try:
        rows = data.read_table(source)
        examples = data.load_source(source)
    except (SourceError, ValueError) as e:
        result.error = str(e)
        return result
    result.rows = len(rows)
    result.clusters = Counter(e.cluster or "(left out)" for e in examples)
    result.origins = Counter(e.origin for e in examples)
    result.left_out = result.clusters["(left out)"]
    result.unmapped = _unmapped(source, rows)
    return result


def check(config: Config) -> Check:
    return Check(config, [check_source(s) for s in config.sources])


def format_check(report: Check) -> str:
    lines = [f"configuration {report.config.path} (data root {report.config.data_root})"]
    for s in report.sources:
        if s.error is not None:
            lines.append(f"ERROR {s.error}")
            continue
        clusters = ", ".join(f"{k} {v}" for k, v in sorted(s.clusters.items()))
        origins = ", ".join(f"{k} {v}" for k, v in sorted(s.origins.items()))
        lines.append(f"{s.name}: {s.rows} rows; clusters: {clusters}; origins: {origins}")
        if s.unmapped:
            total = sum(len(t) for t in s.unmapped.values())
            lines.append(
                f"  {len(s.unmapped)} categories ({total} rows) no mapping row covers; "
                "their rows are left out:"
            )
            for category, titles in list(s.unmapped.items())[:UNMAPPED_SHOWN]:
                shown = "; ".join(t[:60] for t in titles[:EXAMPLES])
                lines.append(f"    {category or '(empty)'}: {len(titles)} rows, e.g. {shown}")
    lines.append("ok" if report.ok else "errors: nothing was trained")
    return "\n".join(lines)
