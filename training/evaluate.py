"""`python -m training evaluate`: decision quality of a saved model on the hand-checked listings,
beside three baselines, with slices, the worst errors and the obfuscation tests.

Everything is scored on titles alone, as in training: the hand labels were made from titles.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.screening.model import CLUSTER_LABELS, Predictions
from app.screening.policy import LIKELY, Policy, load_policy
from app.screening.store import load_model, resolve_model_dir
from training import data
from training.analysis import (
    ObfuscationRow,
    load_test_rows,
    obfuscation_figures,
    score,
    slices,
    technique_recall,
    worst_errors,
)
from training.baselines import BASELINES, BaselineUnavailable
from training.language import language
from training.metrics import import_f1, with_title_markers
from training.sources import DEFAULT_CONFIG, load_config

OBFUSCATED_IMPORT = data.AUTHORED_DIR / "obfuscated_import_test.csv"
OBFUSCATED_NEGATIVE = data.AUTHORED_DIR / "obfuscated_hard_negative_test.csv"
# The second pair was written later, blind to the normaliser, after the first had been used
# while the normaliser's rules were developed: it is the honest measure of evasion.
OBFUSCATED_IMPORT_BLIND = data.AUTHORED_DIR / "obfuscated_import_test_v2.csv"
OBFUSCATED_NEGATIVE_BLIND = data.AUTHORED_DIR / "obfuscated_hard_negative_test_v2.csv"
# Marketplace cross-border markers and their look-alikes, written blind to the marker rule.
MARKER_IMPORT = data.AUTHORED_DIR / "marker_test.csv"
MARKER_NEGATIVE = data.AUTHORED_DIR / "marker_hard_negative_test.csv"
FIRST_TEST, BLIND_TEST, MARKER_TEST = "v1", "v2 (blind)", "markers (blind)"
OUR_MODEL = "our model"


@dataclass
class EvalConfig:
    model_dir: Path | None = None  # None: the folder named in models/DEFAULT
    models_root: Path = data.REPO_ROOT / "models"
    sources: Path = DEFAULT_CONFIG
    data_dir: Path | None = None  # overrides the configuration's data_root
    hand_labels: Path = data.VALIDATION_LABELS
    dev_labels: Path = data.DEV_LABELS  # its shops leave the baselines' pool, as in training
    corrections: Path = data.CORRECTIONS  # the baselines' pool is corrected as in training
    obfuscated_import: Path = OBFUSCATED_IMPORT
    obfuscated_negative: Path = OBFUSCATED_NEGATIVE
    obfuscated_import_blind: Path = OBFUSCATED_IMPORT_BLIND
    obfuscated_negative_blind: Path = OBFUSCATED_NEGATIVE_BLIND
    marker_import: Path = MARKER_IMPORT
    marker_negative: Path = MARKER_NEGATIVE
    policy: Path | None = None  # None: the service's default policy
    baselines: tuple[str, ...] = tuple(BASELINES)
    limit: int | None = None  # rows per source in the baselines' training pool (quick runs)
    with_titles: bool = False  # third-party titles in the worst-errors table


# Obfuscation test sets by name: (disguised imports, look-alike domestic titles).
TestSets = dict[str, tuple[Sequence[ObfuscationRow], Sequence[ObfuscationRow]]]


@dataclass
class Scored:
    """One model's predictions and figures on the hand-checked set and the obfuscation tests."""

    name: str
    description: str
    labels: list[str]
    preds: Predictions
    figures: dict[str, Any]  # metrics.evaluate on the hand-checked set
    obfuscated: dict[str, dict[str, Any]]  # per test set (FIRST_TEST, BLIND_TEST)
    import_test: dict[str, Predictions]  # per test set: on its disguised imports, row by row
    seconds: float  # fitting time (0 for the saved model)


@dataclass
class Evaluation:
    model_version: str
    model_dir: Path
    policy: Policy
    checked: list[data.Example]
    pool_size: int
    scored: list[Scored]
    skipped: dict[str, str]  # baseline name -> why it did not run
    by_source: dict[str, dict[str, Any]]
    by_language: dict[str, dict[str, Any]]
    # Import F1 of every scored model (ours, the keyword rule, ...) on each source and language.
    origin_by_slice: dict[str, dict[str, float | None]]
    by_hardness: dict[str, dict[str, Any]]
    by_technique: dict[str, dict[str, dict[str, Any]]]  # per test set, per technique
    worst: list[dict[str, Any]]
    with_titles: bool
    seconds: float = 0.0


def load_checked(cfg: EvalConfig) -> tuple[list[data.Example], list[data.Example]]:
    """(baselines' training pool, hand-checked examples), exactly as training splits them."""
    examples = data.load_sources(load_config(cfg.sources, cfg.data_dir))
    pool, checked, _ = data.training_sets(
        examples, cfg.hand_labels, cfg.dev_labels, cfg.corrections
    )
    if cfg.limit:
        # Limit the pool after the split, so the hand-checked set stays whole.
        per_source: dict[str, int] = {}
        limited = []
        for e in pool:
            per_source[e.source] = per_source.get(e.source, 0) + 1
            if per_source[e.source] <= cfg.limit:
                limited.append(e)
        pool = limited
    return pool, checked


def _score_all(
    name: str,
    description: str,
    predict: Callable[[Sequence[str]], Predictions],
    labels: Sequence[str],
    checked: Sequence[data.Example],
    tests: TestSets,
    policy: Policy,
    seconds: float,
) -> Scored:
    # Titles only, like training's hand-checked score: the hand labels were made from titles.
    preds = predict([e.title for e in checked])
    obfuscated, import_preds = {}, {}
    for test, (imports, negatives) in tests.items():
        import_preds[test] = predict([r.title for r in imports])
        negative_preds = predict([r.title for r in negatives])
        obfuscated[test] = obfuscation_figures(
            import_preds[test], imports, negative_preds, negatives, labels, policy
        )
    figures = score(preds, labels, checked, policy)
    return Scored(
        name, description, list(labels), preds, figures, obfuscated, import_preds, seconds
    )


def _baselines(
    cfg: EvalConfig,
    pool: Sequence[data.Example],
    score_one: Callable[[str, str, Callable[[Sequence[str]], Predictions], float], Scored],
    log: Callable[[str], None],
) -> tuple[list[Scored], dict[str, str]]:
    scored, skipped = [], {}
    for key in cfg.baselines:
        baseline = BASELINES[key]()
        start = time.perf_counter()
        try:
            baseline.fit(pool)
        except BaselineUnavailable as exc:
            # Optional baselines must not stop the evaluation: the report says why they are absent.
            skipped[baseline.name] = str(exc)
            log(f"baseline {baseline.name}: skipped ({exc})")
            continue
        seconds = time.perf_counter() - start
        log(f"baseline {baseline.name}: fitted in {seconds:.1f}s")
        scored.append(score_one(baseline.name, baseline.description, baseline.predict, seconds))
    return scored, skipped


def _language(e: data.Example) -> str:
    return f"written in {language(e.title)}"


def origin_by_slice(
    scored: Sequence[Scored], checked: Sequence[data.Example]
) -> dict[str, dict[str, float | None]]:
    """Import F1 of each scored model on the whole set, each source and each language."""
    keys: dict[str, list[int]] = {"all": list(range(len(checked)))}
    for i, e in enumerate(checked):
        keys.setdefault(e.source, []).append(i)
        keys.setdefault(_language(e), []).append(i)
    truth = np.array([e.origin == "import" for e in checked])
    out: dict[str, dict[str, float | None]] = {}
    for name, idx in keys.items():
        rows = np.array(idx)
        out[name] = {
            s.name: import_f1(truth[rows], s.preds.import_proba[rows] >= LIKELY) for s in scored
        }
    return out


def run(cfg: EvalConfig, log: Callable[[str], None] = print) -> Evaluation:
    """Scores the model and the baselines; `training.report.write` writes the report."""
    start = time.perf_counter()
    loaded = load_model(resolve_model_dir(cfg.model_dir, cfg.models_root))
    policy = load_policy(cfg.policy)
    pool, checked = load_checked(cfg)
    tests: TestSets = {
        FIRST_TEST: (
            load_test_rows(cfg.obfuscated_import),
            load_test_rows(cfg.obfuscated_negative),
        ),
        BLIND_TEST: (
            load_test_rows(cfg.obfuscated_import_blind),
            load_test_rows(cfg.obfuscated_negative_blind),
        ),
        MARKER_TEST: (load_test_rows(cfg.marker_import), load_test_rows(cfg.marker_negative)),
    }
    log(f"model {loaded.version}; hand-checked {len(checked)}; baseline pool {len(pool)}")

    def ours(titles: Sequence[str]) -> Predictions:
        # As the service answers: a marketplace's marker in the title decides origin.
        return with_title_markers(loaded.model.predict([{"title": t} for t in titles]), titles)

    mine = _score_all(
        OUR_MODEL,
        f"`{loaded.version}`: the saved artifact, loaded through the service's model store",
        ours,
        loaded.model.cluster_labels,
        checked,
        tests,
        policy,
        0.0,
    )

    def score_baseline(
        name: str, description: str, predict: Callable[[Sequence[str]], Predictions], sec: float
    ) -> Scored:
        return _score_all(name, description, predict, CLUSTER_LABELS, checked, tests, policy, sec)

    others, skipped = _baselines(cfg, pool, score_baseline, log)
    return Evaluation(
        model_version=loaded.version,
        model_dir=loaded.path,
        policy=policy,
        checked=checked,
        pool_size=len(pool),
        scored=[mine, *others],
        skipped=skipped,
        by_source=slices(mine.preds, mine.labels, checked, lambda e: e.source, policy),
        by_language=slices(mine.preds, mine.labels, checked, _language, policy),
        origin_by_slice=origin_by_slice([mine, *others], checked),
        by_hardness=slices(
            mine.preds,
            mine.labels,
            checked,
            lambda e: "hard" if e.extra.get("hard") == "1" else "not hard",
            policy,
        ),
        by_technique={
            test: technique_recall(mine.import_test[test], imports)
            for test, (imports, _) in tests.items()
        },
        worst=worst_errors(mine.preds, mine.labels, checked, policy),
        with_titles=cfg.with_titles,
        seconds=time.perf_counter() - start,
    )
