"""`python -m training evaluate` on the tiny model: the report's figures must be the ones
`training.metrics` gives for the same predictions."""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from app.screening.model import CLUSTER_LABELS, Predictions
from app.screening.policy import load_policy
from app.screening.store import load_model
from training import data, metrics
from training.__main__ import main
from training.analysis import load_test_rows
from training.baselines import (
    BaselineUnavailable,
    FastTextBaseline,
    KeywordBaseline,
    keyword_cluster,
)
from training.evaluate import (
    MARKER_IMPORT,
    MARKER_NEGATIVE,
    OBFUSCATED_IMPORT,
    OBFUSCATED_IMPORT_BLIND,
    OBFUSCATED_NEGATIVE,
    OBFUSCATED_NEGATIVE_BLIND,
    EvalConfig,
    load_checked,
)
from training.figures import reliability_bins

SEBLAK = "tokopedia_seblak.csv"

needs_data = pytest.mark.skipif(
    not data.SHARED_DATA.is_dir(), reason="../shared/data is not present"
)
LIMIT = 300  # baseline training rows per source: enough to learn, quick to fit
SECTIONS = (
    "## Headline",
    "## Models",
    "## Per-class precision, recall, F1",
    "## Confusion matrix",
    "## Calibration",
    "## Decisions",
    "## By data source",
    "## By language",
    "## Origin: import F1 beside the keyword rule",
    "## Hard vs not hard",
    "## Obfuscated import tests and hard negatives",
    "worst errors",
)


@pytest.fixture(scope="module")
def report_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One evaluation through the CLI, with fastText made unimportable to exercise the skip."""
    out = tmp_path_factory.mktemp("report")
    argv = ["evaluate", "--model", str(tiny_model_dir), "--output", str(out)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "fasttext", None)  # makes `import fasttext` raise ImportError
        assert main([*argv, "--limit", str(LIMIT)]) == 0
    return out


@pytest.fixture(scope="module")
def split() -> tuple[list[data.Example], list[data.Example]]:
    """(baseline training pool, hand-checked examples), as the evaluation loads them."""
    return load_checked(EvalConfig(limit=LIMIT))


@pytest.fixture(scope="module")
def checked(split: tuple[list[data.Example], list[data.Example]]) -> list[data.Example]:
    return split[1]


def _section(report: str, heading: str) -> str:
    start = report.index(heading)
    end = report.find("\n## ", start + len(heading))
    return report[start : end if end >= 0 else None]


def _row(section: str, first_cell: str) -> list[str]:
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == first_cell:
            return cells[1:]
    raise AssertionError(f"no row {first_cell!r}")


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _headline(m: dict[str, object], obfuscation: list[float]) -> list[str]:
    """The headline row: `obfuscation` is [v1 recall, v1 FPR, v2 recall, v2 FPR, marker
    recall, marker FPR]."""
    c, d = m["cluster"], m["decision"]
    assert isinstance(c, dict) and isinstance(d, dict)
    values = [c["macro_f1"], c["classes"]["handicraft"]["f1"], c["accuracy"], c["ece"]]
    values += [d["false_block_rate"], d["block_recall"], d["review_rate"]]
    recall, fpr = obfuscation[0:4:2], obfuscation[1:4:2]
    o = m["origin"]
    assert isinstance(o, dict)
    return [_f(v) for v in values] + [
        " / ".join(map(_f, recall)),
        " / ".join(map(_f, fpr)),
        _f(o["classes"]["import"]["f1"]),
        " / ".join(map(_f, obfuscation[4:])),
    ]


TEST_FILES: tuple[Path, ...] = (OBFUSCATED_IMPORT, OBFUSCATED_NEGATIVE, OBFUSCATED_IMPORT_BLIND)
TEST_FILES += (OBFUSCATED_NEGATIVE_BLIND, MARKER_IMPORT, MARKER_NEGATIVE)


def _obfuscated_recall(preds: Predictions) -> float:
    return round(float((preds.import_proba >= 0.5).mean()), 4)


@needs_data
def test_evaluate_writes_the_report_and_its_figures(report_dir: Path) -> None:
    for name in ("report.md", "metrics.json", "confusion.png", "reliability.png"):
        assert (report_dir / name).stat().st_size > 0
    for png in ("confusion.png", "reliability.png"):
        assert (report_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (report_dir / "report.md").read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert heading in report


@needs_data
def test_evaluate_writes_one_html_report_with_its_figures_inside(report_dir: Path) -> None:
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    embedded = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    figures = [(report_dir / png).read_bytes() for png in ("confusion.png", "reliability.png")]
    assert [base64.b64decode(e) for e in embedded] == figures
    assert "<h2>Headline</h2>" in page and "<table>" in page
    assert "<script" not in page


@needs_data
def test_report_figures_are_what_metrics_computes(
    report_dir: Path, tiny_model_dir: Path, checked: list[data.Example]
) -> None:
    report = (report_dir / "report.md").read_text(encoding="utf-8")
    policy = load_policy()
    clusters, origins = [e.cluster for e in checked], [e.origin for e in checked]
    titles = [e.title for e in checked]
    model = load_model(tiny_model_dir).model
    tests = [[r.title for r in load_test_rows(path)] for path in TEST_FILES]

    def predict(ts: list[str]) -> Predictions:
        # As the service answers: a marketplace marker in the title decides origin.
        return metrics.with_title_markers(model.predict([{"title": t} for t in ts]), ts)

    ours = predict(titles)
    m = metrics.evaluate(ours, model.cluster_labels, clusters, origins, policy)
    headline = _section(report, "## Headline")
    assert _row(headline, "our model") == _headline(
        m, [_obfuscated_recall(predict(test)) for test in tests]
    )
    side_by_side = _section(report, "## Origin: import F1 beside the keyword rule")
    truth = np.array([o == "import" for o in origins])
    assert _row(side_by_side, "all")[0] == _f(metrics.import_f1(truth, ours.import_proba >= 0.5))
    keyword = KeywordBaseline()
    k = metrics.evaluate(keyword.predict(titles), CLUSTER_LABELS, clusters, origins, policy)
    assert _row(headline, "keyword rule") == _headline(
        k, [_obfuscated_recall(keyword.predict(test)) for test in tests]
    )

    per_class = _section(report, "### our model: cluster")
    for label, c in m["cluster"]["classes"].items():
        expected = [_f(c["precision"]), _f(c["recall"]), _f(c["f1"]), str(c["support"])]
        assert _row(per_class, label) == expected

    seblak = [i for i, e in enumerate(checked) if e.source == SEBLAK]
    s = metrics.evaluate(
        model.predict([{"title": titles[i]} for i in seblak]),
        model.cluster_labels,
        [clusters[i] for i in seblak],
        [origins[i] for i in seblak],
        policy,
    )
    row = _row(_section(report, "## By data source"), SEBLAK)
    assert row[:4] == [
        str(len(seblak)),
        _f(s["cluster"]["accuracy"]),
        _f(s["cluster"]["macro_f1"]),
    ] + [_f(s["decision"]["false_block_rate"])]


@needs_data
def test_a_missing_fasttext_is_skipped_with_a_note(report_dir: Path) -> None:
    report = (report_dir / "report.md").read_text(encoding="utf-8")
    assert "**fastText skipped**" in report
    assert "fasttext-numpy2" in report
    with pytest.raises(AssertionError):
        _row(_section(report, "## Headline"), "fastText")
    # The baselines that can run do.
    assert _row(_section(report, "## Headline"), "tf-idf + LR")


@needs_data
def test_worst_errors_are_sorted_and_carry_no_title(
    report_dir: Path, checked: list[data.Example]
) -> None:
    report = (report_dir / "report.md").read_text(encoding="utf-8")
    worst = _section(report, "worst errors")
    confidences = [
        float(x)
        for x in re.findall(r"^\| \d+ \| [^|]+ \| [^|]+ \| [^|]+ \| ([\d.]+) \|", worst, re.M)
    ]
    assert 0 < len(confidences) <= 30
    assert confidences == sorted(confidences, reverse=True)
    # Third-party titles stay out of a report unless asked for.
    assert not [e.title for e in checked if len(e.title) > 15 and e.title in report]


def test_confidence_bins_add_up_to_the_ece() -> None:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(4) * 0.5, size=400)
    y = rng.integers(0, 4, size=400)
    bins = reliability_bins(proba, y)
    gap = sum(n / len(y) * abs(conf - acc) for _, _, n, conf, acc in bins)
    assert gap == pytest.approx(metrics.expected_calibration_error(proba, y))
    assert sum(n for _, _, n, _, _ in bins) == len(y)


@pytest.mark.parametrize(
    ("title", "cluster"),
    [
        ("Kemeja Batik Pria Lengan Panjang", "textile_fashion"),
        # Rule 1: a woven bag is a bag, so fashion words are checked before craft words.
        ("Tas Anyaman Rotan Bulat Handmade", "textile_fashion"),
        ("Keripik Tempe Khas Malang 250gr", "culinary"),
        ("Patung Ukiran Kayu Jati Jepara", "handicraft"),
        ("Charger Fast Charging 33W Type C", "other"),
    ],
)
def test_keyword_baseline_cluster(title: str, cluster: str) -> None:
    assert keyword_cluster(title)[0] == cluster


def test_keyword_baseline_is_certain_and_reads_import_evidence() -> None:
    titles = ["Sepatu Sneakers Wanita Import Korea", "Tas Kulit Kualitas Import", "Panci Presto"]
    preds = KeywordBaseline().predict(titles)
    assert preds.cluster_proba.sum(axis=1).tolist() == [1.0, 1.0, 1.0]
    assert set(np.unique(preds.cluster_proba)) == {0.0, 1.0}
    assert preds.import_proba.tolist() == [1.0, 0.0, 0.0]
    assert preds.origin_terms[0] and not preds.origin_terms[1]


def test_fasttext_baseline_without_the_package_is_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "fasttext", None)
    with pytest.raises(BaselineUnavailable, match="fasttext-numpy2"):
        FastTextBaseline().fit([])


@needs_data
def test_fasttext_baseline_gives_probabilities_over_the_clusters(
    split: tuple[list[data.Example], list[data.Example]],
) -> None:
    pytest.importorskip("fasttext")
    pool, checked = split
    preds = FastTextBaseline().fit(pool).predict([e.title for e in checked[:50]])
    assert preds.cluster_proba.shape == (50, len(CLUSTER_LABELS))
    assert np.allclose(preds.cluster_proba.sum(axis=1), 1.0)
    assert ((preds.import_proba >= 0) & (preds.import_proba <= 1)).all()


def test_unknown_baseline_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--baselines", "keyword,bert"])
    assert exc.value.code == 2
