"""`python -m training drift --decisions FILE`: a file of decisions against the model's
reference profile, as the population stability index (PSI) per feature, with a plot.

The decisions come from `screen` or `rescreen` (CSV, JSON Lines or Parquet, a file or a folder
of part files; columns as `training/rescreen/layout.py: OUTPUT_COLUMNS`). The unknown-word share
needs the titles, which decisions do not carry: give the listings with `--listings`, matched by
`listing_id`, else row by row; without them that feature is skipped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.screening.drift import (
    BINS,
    HISTOGRAMS,
    PSI_LARGE,
    PSI_MODERATE,
    Vocabulary,
    compare,
    load_profile,
    profile,
)
from app.screening.store import load_model, resolve_model_dir

UNKNOWN = "unknown_word_share"


class DriftError(ValueError):
    """A file that cannot be read, or a model without a reference profile."""


@dataclass
class DriftResult:
    model_version: str
    listings: int  # decisions profiled (rows with a model answer)
    skipped_rows: int  # invalid rows and model errors: no answer to profile
    psi: dict[str, float]
    skipped: dict[str, str]  # feature -> why it was not compared
    reference: dict[str, Any]
    live: dict[str, Any]


def reading(value: float) -> str:
    if value >= PSI_LARGE:
        return "large shift"
    if value >= PSI_MODERATE:
        return "moderate shift"
    return "no shift"


SUFFIXES = (".parquet", ".csv", ".jsonl")


def _files(path: Path) -> list[Path]:
    if path.is_file():
        if path.suffix not in SUFFIXES:
            raise DriftError(f"{path}: give a .csv, .jsonl or .parquet file (or a folder of them)")
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES)
        if found:
            return found
        raise DriftError(f"{path}: no .parquet, .csv or .jsonl file in it")
    raise DriftError(f"{path}: no such file")


def _partition(path: Path) -> dict[str, str]:
    # rescreen partitions by decision: the column is in the folder name (decision=block).
    return dict(part.split("=", 1) for part in path.parts if "=" in part)


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Every row of a file (or folder of part files), as a dict."""
    for f in _files(path):
        if f.suffix == ".parquet":
            try:
                import pyarrow.parquet as pq
            except ImportError as e:  # pragma: no cover - pyarrow comes with the train extra
                raise DriftError("reading Parquet needs pyarrow") from e
            try:
                rows = pq.read_table(f, partitioning=None).to_pylist()
            except Exception as e:  # a corrupt or foreign file: say which
                raise DriftError(f"{f}: not readable as Parquet: {e}") from e
        elif f.suffix == ".csv":
            with f.open(encoding="utf-8-sig", newline="") as fh:
                rows = [
                    {k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(fh)
                ]
        else:
            with f.open(encoding="utf-8") as fh:
                try:
                    rows = [json.loads(line) for line in fh if line.strip()]
                except json.JSONDecodeError as e:
                    raise DriftError(f"{f}: not JSON Lines: {e}") from e
        extra = _partition(f.relative_to(path)) if path.is_dir() else {}
        for r in rows:
            yield {**extra, **r} if extra else r


def _titles(listings: Path) -> tuple[dict[str, str], list[str]]:
    """(title by listing_id, titles in row order) of a listings file."""
    by_id, ordered = {}, []
    for r in read_rows(listings):
        title = r.get("title")
        if title is None:
            raise DriftError(f"{listings}: a row has no 'title'")
        ordered.append(str(title))
        if r.get("listing_id") is not None:
            by_id[str(r["listing_id"])] = str(title)
    return by_id, ordered


def live_rows(
    decisions: Sequence[dict[str, Any]],
    titles: tuple[dict[str, str], list[str]] | None,
    vocabulary: Vocabulary | None,
) -> tuple[dict[str, list[Any]], int]:
    """(profile columns, rows skipped): rows without a model answer are skipped."""
    if decisions and "cluster" not in decisions[0] and "decision" not in decisions[0]:
        raise DriftError("the decisions have no 'cluster' or 'decision' column")
    out: dict[str, list[Any]] = {
        "cluster": [],
        "decision": [],
        "cluster_confidence": [],
        "import_probability": [],
        UNKNOWN: [],
    }
    skipped = 0
    by_id, ordered = titles if titles else ({}, [])
    for i, r in enumerate(decisions):
        if r.get("cluster") is None or r.get("cluster_confidence") is None:
            skipped += 1
            continue
        out["cluster"].append(r["cluster"])
        # The would-be decision in shadow mode, as the service's live profile counts it.
        out["decision"].append(r.get("shadow_decision") or r["decision"])
        out["cluster_confidence"].append(float(r["cluster_confidence"]))
        out["import_probability"].append(float(r["import_probability"]))
        if titles and vocabulary is not None:
            key = r.get("listing_id")
            title = by_id.get(str(key)) if key is not None else None
            if title is None and i < len(ordered):
                title = ordered[i]
            if title is not None:
                out[UNKNOWN].append(vocabulary.unknown_share(title))
    return out, skipped


def run(
    decisions: Path, model_dir: Path | None, models_root: Path, listings: Path | None = None
) -> DriftResult:
    folder = resolve_model_dir(model_dir, models_root)
    if not folder.is_dir():
        raise DriftError(f"{folder}: no such model folder")
    if not decisions.exists():
        raise DriftError(f"{decisions}: no such file")
    if listings is not None and not listings.exists():
        raise DriftError(f"{listings}: no such file")
    reference = load_profile(folder)
    if reference is None:
        raise DriftError(
            f"{folder} has no reference profile; write one with "
            f"`python -m training profile {folder}`"
        )
    loaded = load_model(folder)
    vocabulary = Vocabulary.of(loaded.model.predictor)
    rows = list(read_rows(decisions))
    titles = _titles(listings) if listings is not None else None
    columns, skipped_rows = live_rows(rows, titles, vocabulary)
    if not columns["cluster"]:
        raise DriftError(f"{decisions}: no row with a model answer to profile")
    live = profile(columns, clusters=list(reference["cluster"]), source=str(decisions))
    psi = compare(reference, live)
    skipped: dict[str, str] = {}
    if listings is None:
        skipped[UNKNOWN] = "needs the titles: give the listings with --listings"
    elif vocabulary is None:
        skipped[UNKNOWN] = "the model has no compiled vocabulary (scikit-learn fallback)"
    elif len(columns[UNKNOWN]) < len(columns["cluster"]):
        skipped[UNKNOWN] = (
            f"only {len(columns[UNKNOWN])} of {len(columns['cluster'])} decisions matched a "
            "listing (by listing_id or row order)"
        )
    elif not any(reference[UNKNOWN]):
        skipped[UNKNOWN] = "the reference profile has no unknown-word histogram"
    for name in skipped:
        psi.pop(name, None)
    return DriftResult(
        loaded.version, len(columns["cluster"]), skipped_rows, psi, skipped, reference, live
    )


def format_result(result: DriftResult) -> str:
    lines = [
        f"model {result.model_version}: {result.listings} decisions against the reference "
        f"profile ({result.reference.get('source') or 'no source recorded'}, "
        f"{result.reference.get('listings')} listings)"
    ]
    if result.skipped_rows:
        lines.append(f"{result.skipped_rows} rows without a model answer (invalid) left out")
    lines.append(f"{'feature':<22}{'PSI':>8}  reading")
    for name, value in result.psi.items():
        lines.append(f"{name:<22}{value:>8.4f}  {reading(value)}")
    for name, why in result.skipped.items():
        lines.append(f"{name:<22}{'-':>8}  skipped: {why}")
    lines.append(f"(PSI under {PSI_MODERATE}: no shift; to {PSI_LARGE}: moderate; above: large)")
    return "\n".join(lines)


def plot(result: DriftResult, path: Path) -> Path:
    """Reference against live, one panel per feature."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    features = [*HISTOGRAMS, "cluster", "decision"]
    fig, axes = plt.subplots(1, len(features), figsize=(4 * len(features), 3.4))
    for ax, name in zip(axes, features, strict=True):
        ref, now = result.reference[name], result.live[name]
        if isinstance(ref, dict):
            keys = sorted(ref)
            ref, now = [ref[k] for k in keys], [now.get(k, 0.0) for k in keys]
            ticks = keys
        else:
            ticks = [f"{lo:.1f}" for lo in BINS[:-1]]
        x = np.arange(len(ref))
        ax.bar(x - 0.2, ref, width=0.4, label="reference")
        ax.bar(x + 0.2, now, width=0.4, label="live")
        ax.set_xticks(x, ticks, rotation=45, ha="right", fontsize=7)
        note = f"PSI {result.psi[name]:.3f}" if name in result.psi else "skipped"
        ax.set_title(f"{name}\n{note}", fontsize=9)
        ax.set_ylabel("share")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{result.model_version}: reference profile against the decisions")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
