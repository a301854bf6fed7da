"""Metrics for parts of an evaluation: per-group slices, the obfuscation tests, and the
errors made with the most confidence. All of them reuse `training.metrics`."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.screening.model import Predictions
from app.screening.policy import LIKELY, Policy
from training import data, metrics

WORST = 30


@dataclass(frozen=True, slots=True)
class ObfuscationRow:
    """A row of an authored obfuscation test file."""

    title: str
    cluster: str
    origin: str
    obfuscation: str


def load_test_rows(path: Path) -> list[ObfuscationRow]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            # The kind of each row: its obfuscation technique, marker or trap.
            ObfuscationRow(
                r["title"],
                r["cluster"],
                r["origin"],
                r.get("obfuscation") or r.get("marker") or r.get("trap") or "",
            )
            for r in csv.DictReader(f)
        ]


def take(preds: Predictions, idx: Sequence[int]) -> Predictions:
    """The predictions of the rows at idx, in that order."""
    rows = np.asarray(idx, dtype=np.intp)
    return Predictions(
        preds.cluster_proba[rows],
        preds.import_proba[rows],
        [preds.cluster_terms[i] for i in rows],
        [preds.origin_terms[i] for i in rows],
    )


def score(
    preds: Predictions, labels: Sequence[str], examples: Sequence[data.Example], policy: Policy
) -> dict[str, Any]:
    figures = metrics.evaluate(
        preds, labels, [e.cluster for e in examples], [e.origin for e in examples], policy
    )
    # Origin calibration too: the same ECE on the two-column (domestic, import) probabilities.
    origin_proba = np.column_stack([1 - preds.import_proba, preds.import_proba])
    origin_idx = np.array([int(e.origin == "import") for e in examples])
    figures["origin"]["ece"] = round(
        metrics.expected_calibration_error(origin_proba, origin_idx), 4
    )
    return figures


def obfuscation_figures(
    imports: Predictions,
    import_rows: Sequence[ObfuscationRow],
    negatives: Predictions,
    negative_rows: Sequence[ObfuscationRow],
    labels: Sequence[str],
    policy: Policy,
) -> dict[str, Any]:
    """import_recall: share of disguised imports predicted import; protected_blocked: share of
    the protected-cluster ones blocked; negatives: share of look-alike domestic titles
    predicted import (false-positive rate) and blocked."""
    decided = np.array(metrics.decisions(imports, labels, policy))
    protected = np.array([r.cluster in policy.protected_clusters for r in import_rows])
    neg_decided = np.array(metrics.decisions(negatives, labels, policy))
    return {
        "n_import": len(import_rows),
        "import_recall": round(float((imports.import_proba >= LIKELY).mean()), 4),
        "n_protected": int(protected.sum()),
        "protected_blocked": round(float((decided[protected] == "block").mean()), 4),
        "n_negative": len(negative_rows),
        "negative_fpr": round(float((negatives.import_proba >= LIKELY).mean()), 4),
        "negative_blocked": round(float((neg_decided == "block").mean()), 4),
    }


def slices(
    preds: Predictions,
    labels: Sequence[str],
    examples: Sequence[data.Example],
    key: Callable[[data.Example], str],
    policy: Policy,
) -> dict[str, dict[str, Any]]:
    """The figures of each group of examples sharing key(example)."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        groups.setdefault(key(e), []).append(i)
    return {
        name: score(take(preds, idx), labels, [examples[i] for i in idx], policy)
        for name, idx in sorted(groups.items())
    }


def worst_errors(
    preds: Predictions,
    labels: Sequence[str],
    examples: Sequence[data.Example],
    policy: Policy,
    n: int = WORST,
) -> list[dict[str, Any]]:
    """The n errors made with the most confidence: a wrong cluster (confidence: top cluster
    probability) or a wrong block/allow (confidence: p_block for a false block, 1 - p_block for
    a missed one). A review is a deferral to a person, not an error."""
    decided = metrics.decisions(preds, labels, policy)
    protected = np.array([lab in policy.protected_clusters for lab in labels])
    p_block = preds.cluster_proba[:, protected].sum(axis=1) * preds.import_proba
    rows: list[dict[str, Any]] = []
    for i, e in enumerate(examples):
        best = int(preds.cluster_proba[i].argmax())
        expected = (
            "block" if e.cluster in policy.protected_clusters and e.origin == "import" else "allow"
        )
        kinds, confidence = [], 0.0
        if labels[best] != e.cluster:
            kinds.append("cluster")
            confidence = float(preds.cluster_proba[i, best])
        if decided[i] != "review" and decided[i] != expected:
            kinds.append("false block" if decided[i] == "block" else "missed block")
            p = float(p_block[i])
            confidence = max(confidence, p if decided[i] == "block" else 1 - p)
        if kinds:
            rows.append(
                {
                    "source": e.source,
                    "row_id": e.row_id,
                    "title": e.title,
                    "hard": e.extra.get("hard") == "1",
                    "error": " + ".join(kinds),
                    "confidence": round(confidence, 4),
                    "true": f"{e.cluster}/{e.origin}",
                    "predicted": f"{labels[best]} ({preds.cluster_proba[i, best]:.2f})",
                    "p_import": round(float(preds.import_proba[i]), 4),
                    "decision": f"{expected} -> {decided[i]}",
                    "cluster_terms": preds.cluster_terms[i],
                    "origin_terms": preds.origin_terms[i],
                }
            )
    rows.sort(key=lambda r: -r["confidence"])
    return rows[:n]


def technique_recall(
    preds: Predictions, rows: Sequence[ObfuscationRow]
) -> dict[str, dict[str, Any]]:
    """Share predicted import per obfuscation technique of the import test."""
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(r.obfuscation, []).append(i)
    return {
        t: {
            "n": len(idx),
            "import_recall": round(float((preds.import_proba[idx] >= LIKELY).mean()), 4),
        }
        for t, idx in sorted(groups.items())
    }
