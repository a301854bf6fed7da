"""`python -m training compare A B`: two saved models on every hand-checked set, with paired
bootstrap confidence intervals of each headline figure's difference (B - A).

Both models are scored as `evaluate` scores (titles only, a marketplace marker in the title
decides origin, the figures of `training.metrics.evaluate`). The bootstrap resamples listings
with replacement, the same resample for both models, so what the two share (an easy set, a hard
one) cancels out of the difference. A figure is "better" or "worse" only when its 95% interval
excludes 0; otherwise the two models are indistinguishable on that set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.screening.model import CLUSTER_LABELS
from app.screening.policy import LIKELY, Policy, load_policy
from app.screening.store import LoadedModel, load_model
from training import data
from training.metrics import decisions, evaluate, with_title_markers
from training.sources import DEFAULT_CONFIG, load_config

RESAMPLES = 2000
SEED = 20261205
LEVEL = 0.95


@dataclass(frozen=True)
class Figure:
    name: str
    higher_is_better: bool
    # Reads the figure from `training.metrics.evaluate`'s result.
    read: Callable[[dict[str, Any]], float | None]


FIGURES = (
    Figure("cluster macro-F1", True, lambda m: m["cluster"]["macro_f1"]),
    Figure("handicraft F1", True, lambda m: m["cluster"]["classes"]["handicraft"]["f1"]),
    Figure("accuracy", True, lambda m: m["cluster"]["accuracy"]),
    Figure("import F1", True, lambda m: m["origin"]["classes"]["import"]["f1"]),
    Figure("block recall", True, lambda m: m["decision"]["block_recall"]),
    Figure("false-block rate", False, lambda m: m["decision"]["false_block_rate"]),
    Figure("review rate", False, lambda m: m["decision"]["review_rate"]),
)


@dataclass
class Outcome:
    figure: str
    a: float | None
    b: float | None
    low: float | None  # the interval of B - A
    high: float | None
    verdict: str  # better, worse, indistinguishable (for B), or n/a

    @property
    def difference(self) -> float | None:
        return None if self.a is None or self.b is None else round(self.b - self.a, 4)


@dataclass
class SetComparison:
    name: str
    n: int
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass
class Answers:
    """One model's answers on a labelled set, listing by listing."""

    figures: dict[str, Any]  # training.metrics.evaluate
    cluster: list[str]
    origin: list[str]
    decision: list[str]


def answers(loaded: LoadedModel, examples: Sequence[data.Example], policy: Policy) -> Answers:
    """The model's figures and answers, scored as `evaluate` scores (titles only)."""
    titles = [e.title for e in examples]
    preds = with_title_markers(loaded.model.predict([{"title": t} for t in titles]), titles)
    labels = loaded.model.cluster_labels
    return Answers(
        figures=evaluate(
            preds, labels, [e.cluster for e in examples], [e.origin for e in examples], policy
        ),
        cluster=[labels[i] for i in preds.cluster_proba.argmax(axis=1)],
        origin=["import" if p >= LIKELY else "domestic" for p in preds.import_proba],
        decision=decisions(preds, labels, policy),
    )


def _f1(tp: np.ndarray, truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    # As scikit-learn with zero_division=0: 2tp / (true + predicted), 0 when both are 0.
    denominator = truth + predicted
    out: np.ndarray = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return out


def _share(hits: np.ndarray, of: np.ndarray) -> np.ndarray:
    # NaN where a resample holds none of `of` (the figure is undefined there).
    out: np.ndarray = np.divide(hits, of, out=np.full_like(hits, np.nan), where=of > 0)
    return out


def resampled_figures(
    weights: np.ndarray,
    answer: Answers,
    clusters: Sequence[str],
    origins: Sequence[str],
    policy: Policy,
) -> dict[str, np.ndarray]:
    """Every figure of FIGURES on each resample at once. `weights` (resamples x listings)
    counts how often each listing was drawn; a row of ones gives `metrics.evaluate`'s figures."""
    truth, pred = np.asarray(clusters), np.asarray(answer.cluster)
    n = weights.sum(axis=1)

    def count(mask: np.ndarray) -> np.ndarray:
        counted: np.ndarray = weights @ mask.astype(float)
        return counted

    f1 = {}
    for c in CLUSTER_LABELS:
        f1[c] = _f1(count((truth == c) & (pred == c)), count(truth == c), count(pred == c))
    present = np.stack([count(truth == c) > 0 for c in CLUSTER_LABELS])
    scores = np.stack([f1[c] for c in CLUSTER_LABELS])
    is_import, said_import = np.asarray(origins) == "import", np.asarray(answer.origin) == "import"
    should_block = np.array(
        [
            c in policy.protected_clusters and o == "import"
            for c, o in zip(clusters, origins, strict=True)
        ]
    )
    decided = np.asarray(answer.decision)
    return {
        "cluster macro-F1": (scores * present).sum(axis=0) / present.sum(axis=0),
        "handicraft F1": f1["handicraft"],
        "accuracy": count(truth == pred) / n,
        "import F1": _f1(count(is_import & said_import), count(is_import), count(said_import)),
        "block recall": _share(count(should_block & (decided == "block")), count(should_block)),
        "false-block rate": _share(
            count(~should_block & (decided == "block")), count(~should_block)
        ),
        "review rate": count(decided == "review") / n,
    }


def bootstrap_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples x n) counts of each listing in each resample drawn with replacement."""
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, n, size=(resamples, n))
    flat = drawn + np.arange(resamples)[:, None] * n
    return np.bincount(flat.ravel(), minlength=resamples * n).reshape(resamples, n).astype(float)


def verdict(low: float, high: float, higher_is_better: bool) -> str:
    if low <= 0 <= high:
        return "indistinguishable"
    return "better" if (low > 0) == higher_is_better else "worse"


def compare_set(
    name: str,
    a: LoadedModel,
    b: LoadedModel,
    examples: Sequence[data.Example],
    policy: Policy,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> SetComparison:
    clusters, origins = [e.cluster for e in examples], [e.origin for e in examples]
    first, second = answers(a, examples, policy), answers(b, examples, policy)
    weights = bootstrap_weights(len(examples), resamples, seed)
    boot_a = resampled_figures(weights, first, clusters, origins, policy)
    boot_b = resampled_figures(weights, second, clusters, origins, policy)
    tail = (1 - LEVEL) / 2 * 100
    out = SetComparison(name, len(examples))
    for fig in FIGURES:
        va, vb = fig.read(first.figures), fig.read(second.figures)
        diff = boot_b[fig.name] - boot_a[fig.name]
        diff = diff[~np.isnan(diff)]
        if va is None or vb is None or not diff.size:
            out.outcomes.append(Outcome(fig.name, va, vb, None, None, "n/a"))
            continue
        low, high = (round(float(x), 4) for x in np.percentile(diff, [tail, 100 - tail]))
        out.outcomes.append(
            Outcome(fig.name, va, vb, low, high, verdict(low, high, fig.higher_is_better))
        )
    return out


def hand_checked_sets(
    sources: Path = DEFAULT_CONFIG,
    data_dir: Path | None = None,
    validation: Path = data.VALIDATION_LABELS,
    dev: Path = data.DEV_LABELS,
) -> dict[str, list[data.Example]]:
    """Every hand-checked set, as training and `evaluate` load them."""
    examples = data.load_sources(load_config(sources, data_dir))
    _, checked, development = data.training_sets(examples, validation, dev, None)
    return {
        name: rows for name, rows in (("validation", checked), ("development", development)) if rows
    }


def compare(
    a: LoadedModel,
    b: LoadedModel,
    sets: dict[str, list[data.Example]],
    policy: Policy | None = None,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> list[SetComparison]:
    policy = policy or load_policy()
    return [
        compare_set(name, a, b, rows, policy, resamples=resamples, seed=seed)
        for name, rows in sets.items()
    ]


def promotable(results: Sequence[SetComparison]) -> bool:
    """B is better or indistinguishable on every figure of every set, better on at least one."""
    verdicts = [o.verdict for r in results for o in r.outcomes]
    return "worse" not in verdicts and "better" in verdicts


def _fmt(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{x:+.4f}" if signed else f"{x:.4f}"


def markdown(
    a: LoadedModel, b: LoadedModel, results: Sequence[SetComparison], resamples: int, seed: int
) -> str:
    lines = [
        f"# `{b.version}` (B) against `{a.version}` (A)",
        "",
        f"Titles only, scored as `evaluate` scores. 95% interval of B - A: paired bootstrap, "
        f"{resamples:,} resamples of the listings, seed {seed}. False-block and review rates: "
        "lower is better.",
    ]
    for r in results:
        lines += [
            "",
            f"## {r.name} set ({r.n} listings)",
            "",
            "| figure | A | B | B - A | 95% interval | B is |",
            "|---|---|---|---|---|---|",
        ]
        for o in r.outcomes:
            interval = "n/a" if o.low is None else f"[{_fmt(o.low, True)}, {_fmt(o.high, True)}]"
            lines.append(
                f"| {o.figure} | {_fmt(o.a)} | {_fmt(o.b)} | {_fmt(o.difference, True)} "
                f"| {interval} | {o.verdict} |"
            )
    ok = promotable(results)
    lines += [
        "",
        f"Promotion rule (better or indistinguishable on every figure, better on at least one): "
        f"**{'met' if ok else 'not met'}**.",
    ]
    return "\n".join(lines)


def run(
    model_a: Path,
    model_b: Path,
    *,
    sources: Path = DEFAULT_CONFIG,
    data_dir: Path | None = None,
    validation: Path = data.VALIDATION_LABELS,
    dev: Path = data.DEV_LABELS,
    policy: Path | None = None,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> str:
    """The comparison as Markdown."""
    a, b = load_model(model_a), load_model(model_b)
    sets = hand_checked_sets(sources, data_dir, validation, dev)
    results = compare(a, b, sets, load_policy(policy), resamples=resamples, seed=seed)
    return markdown(a, b, results, resamples, seed)
