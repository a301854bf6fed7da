"""The evaluation's PNG figures: confusion matrices and the reliability diagram.

Drawn with matplotlib's object API on the Agg canvas: no pyplot global state, no display.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from app.screening.model import CLUSTER_LABELS
from training.evaluate import Evaluation, Scored

BINS = 15  # as metrics.expected_calibration_error, so the diagram shows the bins ECE sums


def reliability_bins(
    proba: np.ndarray, y_true_idx: np.ndarray, bins: int = BINS
) -> list[tuple[float, float, int, float, float]]:
    """(lo, hi, n, mean confidence, accuracy) per non-empty bin of top-label confidence, with
    the bin edges of `metrics.expected_calibration_error`."""
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true_idx
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            mean_conf, accuracy = float(conf[in_bin].mean()), float(correct[in_bin].mean())
            out.append((float(lo), float(hi), int(in_bin.sum()), mean_conf, accuracy))
    return out


def true_idx(s: Scored, ev: Evaluation) -> np.ndarray:
    """The hand label of each checked example as a column of s's probabilities."""
    return np.array([s.labels.index(e.cluster) for e in ev.checked])


def plot_confusion(ev: Evaluation, path: Path) -> None:
    """One panel per model; rows are hand labels, in CLUSTER_LABELS order."""
    fig = Figure(figsize=(4.2 * len(ev.scored), 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    short = [lab.split("_")[0] for lab in CLUSTER_LABELS]
    for k, s in enumerate(ev.scored):
        ax = fig.add_subplot(1, len(ev.scored), k + 1)
        cm = np.array(s.figures["confusion"])
        # Colour by row share so the small handicraft row reads as well as the big ones.
        share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                colour = "white" if share[i, j] > 0.5 else "black"
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=colour)
        ax.set_xticks(range(len(short)), short, rotation=30)
        ax.set_yticks(range(len(short)), short)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true (hand label)")
        ax.set_title(s.name)
    fig.savefig(path, dpi=110)


def plot_reliability(ev: Evaluation, path: Path) -> None:
    """Top-label confidence against accuracy per bin for every model, with our model's
    confidence histogram below (most bins are nearly empty: the counts say how far to trust
    each point)."""
    fig = Figure(figsize=(6, 7), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, height_ratios=[3, 1], sharex=True)
    top.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for s in ev.scored:
        b = reliability_bins(s.preds.cluster_proba, true_idx(s, ev))
        top.plot(
            [x[3] for x in b],
            [x[4] for x in b],
            marker="o",
            label=f"{s.name} (ECE {s.figures['cluster']['ece']:.3f})",
        )
    top.set_ylabel("accuracy in bin")
    top.set_title("cluster: top-label confidence vs accuracy (hand-checked set)")
    top.legend(loc="upper left", fontsize="small")
    ours = ev.scored[0]
    bottom.hist(ours.preds.cluster_proba.max(axis=1), bins=np.linspace(0, 1, BINS + 1))
    bottom.set_xlabel(f"confidence ({BINS} equal-width bins)")
    bottom.set_ylabel(f"{ours.name}: n")
    fig.savefig(path, dpi=110)
