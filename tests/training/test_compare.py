"""`python -m training compare`: paired bootstrap comparison of two models on the
hand-checked sets, with the tiny model, a deliberately bad copy and tiny label files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.screening.policy import load_policy
from app.screening.store import load_model, save_model
from tests.conftest import TINY_EXAMPLES
from tests.training.hand_checked import HandChecked, write_hand_checked
from training.__main__ import main
from training.compare import (
    FIGURES,
    Outcome,
    SetComparison,
    answers,
    bootstrap_weights,
    compare,
    hand_checked_sets,
    promotable,
    resampled_figures,
    verdict,
)
from training.pipeline import Params, build_pipelines

# The bad copy learns every cluster as the next one and every origin as the other.
ROTATE = {
    "textile_fashion": "culinary",
    "culinary": "handicraft",
    "handicraft": "other",
    "other": "textile_fashion",
}
FLIP = {"domestic": "import", "import": "domestic"}


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> HandChecked:
    return write_hand_checked(tmp_path_factory.mktemp("hand_checked"))


@pytest.fixture(scope="module")
def bad_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pipelines = build_pipelines(
        Params(cluster_c=100.0, origin_c=100.0, word_max_features=500, char_max_features=2000)
    )
    listings = [{"title": t} for t, _, _ in TINY_EXAMPLES]
    pipelines["cluster"].fit(listings, [ROTATE[c] for _, c, _ in TINY_EXAMPLES])
    pipelines["origin"].fit(listings, [FLIP[o] for _, _, o in TINY_EXAMPLES])
    out = tmp_path_factory.mktemp("models") / "bad-1"
    save_model(
        pipelines,
        out,
        version="bad-1",
        created_at="2026-12-05T00:00:00+00:00",
        data_sources=[],
        metrics={"note": "deliberately wrong labels"},
        check_listings=[{"title": "kemeja batik"}],
    )
    return out


def _by_figure(result: SetComparison) -> dict[str, Outcome]:
    return {o.figure: o for o in result.outcomes}


def test_hand_checked_sets_are_read_from_the_label_files(sets: HandChecked) -> None:
    loaded = hand_checked_sets(sets.sources, None, sets.validation, sets.dev)
    assert {name: len(rows) for name, rows in loaded.items()} == {
        "validation": 25,
        "development": 25,
    }


def test_a_model_compared_with_itself_is_indistinguishable_on_every_figure(
    tiny_model_dir: Path, sets: HandChecked
) -> None:
    model = load_model(tiny_model_dir)
    results = compare(
        model, model, hand_checked_sets(sets.sources, None, sets.validation, sets.dev)
    )
    assert [r.name for r in results] == ["validation", "development"]
    for r in results:
        assert [o.figure for o in r.outcomes] == [f.name for f in FIGURES]
        for o in r.outcomes:
            assert o.a is not None and o.a == o.b
            assert (o.difference, o.low, o.high, o.verdict) == (0.0, 0.0, 0.0, "indistinguishable")
    assert not promotable(results)


def test_the_good_model_is_better_than_a_bad_copy_and_the_bad_copy_worse(
    tiny_model_dir: Path, bad_model_dir: Path, sets: HandChecked
) -> None:
    good, bad = load_model(tiny_model_dir), load_model(bad_model_dir)
    loaded = hand_checked_sets(sets.sources, None, sets.validation, sets.dev)
    upgrade = {r.name: _by_figure(r) for r in compare(bad, good, loaded)}
    downgrade = {r.name: _by_figure(r) for r in compare(good, bad, loaded)}
    for name in ("validation", "development"):
        for figure in ("cluster macro-F1", "accuracy", "import F1"):
            better, worse = upgrade[name][figure], downgrade[name][figure]
            assert better.verdict == "better"
            assert better.low is not None and better.low > 0
            assert worse.verdict == "worse"
            assert worse.high is not None and worse.high < 0


def test_the_interval_covers_the_observed_difference_and_verdicts_follow_it(
    tiny_model_dir: Path, bad_model_dir: Path, sets: HandChecked
) -> None:
    good, bad = load_model(tiny_model_dir), load_model(bad_model_dir)
    higher_is_better = {f.name: f.higher_is_better for f in FIGURES}
    results = compare(bad, good, hand_checked_sets(sets.sources, None, sets.validation, sets.dev))
    checked = 0
    for r in results:
        for o in r.outcomes:
            if o.low is None or o.high is None or o.difference is None:
                continue
            checked += 1
            assert o.low <= o.difference <= o.high, o
            assert o.verdict == verdict(o.low, o.high, higher_is_better[o.figure])
    assert checked >= 10


@pytest.mark.parametrize(
    ("low", "high", "higher_is_better", "expected"),
    [
        (0.01, 0.05, True, "better"),
        (-0.05, -0.01, True, "worse"),
        (-0.05, -0.01, False, "better"),  # a false-block rate that fell
        (0.01, 0.05, False, "worse"),
        (-0.01, 0.02, True, "indistinguishable"),
        (0.0, 0.02, True, "indistinguishable"),  # touching 0 does not exclude it
    ],
)
def test_verdict_follows_the_interval_and_the_figures_direction(
    low: float, high: float, higher_is_better: bool, expected: str
) -> None:
    assert verdict(low, high, higher_is_better) == expected


def test_promotion_needs_one_better_figure_and_no_worse_one() -> None:
    def result(*verdicts: str) -> SetComparison:
        return SetComparison(
            "validation", 10, [Outcome(f"f{i}", 0.5, 0.5, 0, 0, v) for i, v in enumerate(verdicts)]
        )

    assert promotable([result("better", "indistinguishable")])
    assert not promotable([result("better", "worse")])
    assert not promotable([result("indistinguishable"), result("indistinguishable")])
    assert not promotable([result("better"), result("worse")])


def test_vectorised_figures_on_the_whole_set_equal_the_metrics_module(
    tiny_model_dir: Path, bad_model_dir: Path, sets: HandChecked
) -> None:
    """The bootstrap recomputes the figures from counts: on the set itself (every listing
    once) they must be `training.metrics.evaluate`'s."""
    policy = load_policy()
    rows = hand_checked_sets(sets.sources, None, sets.validation, sets.dev)["validation"]
    for folder in (tiny_model_dir, bad_model_dir):
        answer = answers(load_model(folder), rows, policy)
        whole = resampled_figures(
            np.ones((1, len(rows))),
            answer,
            [e.cluster for e in rows],
            [e.origin for e in rows],
            policy,
        )
        for fig in FIGURES:
            assert round(float(whole[fig.name][0]), 4) == fig.read(answer.figures), fig.name


def test_bootstrap_weights_draw_every_resample_with_replacement() -> None:
    weights = bootstrap_weights(50, 200, seed=1)
    assert weights.shape == (200, 50)
    assert (weights.sum(axis=1) == 50).all()
    assert (weights > 1).any()  # some listings drawn twice
    assert np.array_equal(weights, bootstrap_weights(50, 200, seed=1))


def test_compare_command_prints_and_writes_the_table(
    tiny_model_dir: Path,
    bad_model_dir: Path,
    sets: HandChecked,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "compare.md"
    argv = ["compare", str(bad_model_dir), str(tiny_model_dir), *sets.argv(), "--out", str(out)]
    assert main([*argv, "--resamples", "500"]) == 0
    printed = capsys.readouterr().out
    table = out.read_text(encoding="utf-8")
    assert table.strip() in printed
    assert "## validation set (25 listings)" in table
    assert "## development set (25 listings)" in table
    assert "| accuracy |" in table and "| better |" in table
    assert "500 resamples" in table


def test_compare_command_refuses_a_missing_model_folder(
    tiny_model_dir: Path, sets: HandChecked, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope"
    assert main(["compare", str(tiny_model_dir), str(missing), *sets.argv()]) == 2
    assert f"{missing}: no such model folder" in capsys.readouterr().err
