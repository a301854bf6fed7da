"""Metrics for a model on labelled examples: per-class, calibration, and decision level."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from app.screening.markers import title_markers
from app.screening.model import CLUSTER_LABELS, Predictions
from app.screening.policy import LIKELY, Policy


def with_title_markers(preds: Predictions, titles: Sequence[str]) -> Predictions:
    """The predictions with P(import) = 1 where a title carries a marketplace's marker, as
    the screener answers (app/screening/screener.py): what a model is scored on."""
    marked = np.array([bool(title_markers(t)) for t in titles], dtype=bool)
    return replace(preds, import_proba=np.where(marked, 1.0, preds.import_proba))


def import_f1(truth: np.ndarray, predicted: np.ndarray) -> float | None:
    """F1 of the import class; None where neither the labels nor the predictions have one."""
    tp = int((truth & predicted).sum())
    denominator = int(truth.sum()) + int(predicted.sum())
    return round(2 * tp / denominator, 4) if denominator else None


def per_class(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=list(labels), zero_division=0
    )
    classes = {
        lab: {
            "precision": round(float(p[i]), 4),
            "recall": round(float(r[i]), 4),
            "f1": round(float(f[i]), 4),
            "support": int(s[i]),
        }
        for i, lab in enumerate(labels)
    }
    present = [i for i in range(len(labels)) if s[i] > 0]
    return {
        "accuracy": round(float(np.mean(np.asarray(y_true) == np.asarray(y_pred))), 4),
        "macro_f1": round(float(np.mean(f[present])), 4),
        "classes": classes,
    }


def expected_calibration_error(proba: np.ndarray, y_true_idx: np.ndarray, bins: int = 15) -> float:
    """ECE of the top-label confidence, equal-width bins."""
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true_idx
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(conf[in_bin].mean() - correct[in_bin].mean())
    return float(ece)


def decisions(preds: Predictions, labels: Sequence[str], policy: Policy) -> list[str]:
    protected = np.array([lab in policy.protected_clusters for lab in labels])
    p_protected = preds.cluster_proba[:, protected].sum(axis=1)
    decided: list[str] = policy.decide_many(p_protected, preds.import_proba).decisions.tolist()
    return decided


def decision_metrics(
    clusters: Sequence[str], origins: Sequence[str], decided: Sequence[str], policy: Policy
) -> dict[str, Any]:
    """false_block_rate: share of should-allow listings blocked; block_recall: share of
    protected-cluster imports blocked; review_rate: share sent to review."""
    should_block = np.array(
        [
            c in policy.protected_clusters and o == "import"
            for c, o in zip(clusters, origins, strict=True)
        ]
    )
    got = np.asarray(decided)
    n_allow, n_block = int((~should_block).sum()), int(should_block.sum())
    return {
        "false_block_rate": round(float((got[~should_block] == "block").mean()), 4)
        if n_allow
        else None,
        "block_recall": round(float((got[should_block] == "block").mean()), 4) if n_block else None,
        "review_rate": round(float((got == "review").mean()), 4),
        "should_allow": n_allow,
        "should_block": n_block,
    }


def evaluate(
    preds: Predictions,
    labels: Sequence[str],
    clusters: Sequence[str],
    origins: Sequence[str],
    policy: Policy,
) -> dict[str, Any]:
    """All headline figures for one labelled set."""
    y_pred = [labels[i] for i in preds.cluster_proba.argmax(axis=1)]
    o_pred = ["import" if p >= LIKELY else "domestic" for p in preds.import_proba]
    y_idx = np.array([list(labels).index(c) for c in clusters])
    decided = decisions(preds, labels, policy)
    return {
        "n": len(clusters),
        "cluster": per_class(clusters, y_pred, CLUSTER_LABELS)
        | {"ece": round(expected_calibration_error(preds.cluster_proba, y_idx), 4)},
        "origin": per_class(origins, o_pred, ("domestic", "import")),
        "decision": decision_metrics(clusters, origins, decided, policy),
        "confusion": confusion_matrix(clusters, y_pred, labels=list(CLUSTER_LABELS)).tolist(),
    }


def format_report(name: str, m: dict[str, Any]) -> str:
    lines = [f"== {name} (n={m['n']})", f"{'class':<16}{'prec':>8}{'recall':>8}{'f1':>8}{'n':>7}"]
    for part in ("cluster", "origin"):
        for lab, c in m[part]["classes"].items():
            lines.append(
                f"{lab:<16}{c['precision']:>8.3f}{c['recall']:>8.3f}{c['f1']:>8.3f}"
                f"{c['support']:>7}"
            )
        lines.append(
            f"{part}: accuracy {m[part]['accuracy']:.4f}, macro-F1 "
            f"{m[part]['macro_f1']:.4f}"
            + (f", ECE {m[part]['ece']:.4f}" if "ece" in m[part] else "")
        )
    d = m["decision"]
    lines.append(
        f"decision: false-block rate {d['false_block_rate']}, block recall "
        f"{d['block_recall']} (of {d['should_block']}), review rate {d['review_rate']}"
    )
    return "\n".join(lines)
