"""deploy/grafana: every panel's query parses (promtool) and uses only metric names the
service exports, read from a test app's /metrics after traffic that makes each of them appear."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.promql import (
    DASHBOARD,
    check_expressions_parse,
    exported_names,
    metric_names,
    needs_promtool,
    output,
    rules,
    unknown_names,
)

# Written by Prometheus for every scrape target, not by the service.
PROMETHEUS_SERIES = {"up"}
# Grafana's variables in queries, as Grafana would fill them in.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def _dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text())
    assert isinstance(data, dict)
    return data


def _panels() -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    for panel in _dashboard()["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # inside collapsed rows
    return panels


def _expressions() -> dict[str, str]:
    """Every target's PromQL, Grafana's variables filled in, by `panel <id> <refId>`."""
    exprs = {}
    for panel in _panels():
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            exprs[f"panel {panel['id']} {target['refId']}"] = expr
    return exprs


@pytest.fixture(scope="module")
def exported(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    return exported_names(tiny_model_dir, tmp_path_factory.mktemp("policy"))


def test_the_scrape_shows_every_metric_family_fed(exported: set[str]) -> None:
    for name in [
        "akar_http_requests_total",
        "akar_http_request_duration_seconds_bucket",
        "akar_http_requests_in_flight",
        "akar_listings_screened_total",
        "akar_screening_reasons_total",
        "akar_shadow_decisions_total",
        "akar_batch_size_bucket",
        "akar_model_loads_total",
        "akar_model_load_failures_total",
        "akar_model_info",
        "akar_ready",
        "akar_challenger_decisions_total",
        "akar_drift_psi",
    ]:
        assert name in exported


def test_every_dashboard_query_uses_only_exported_metrics(exported: set[str]) -> None:
    exprs = _expressions()
    assert len(exprs) >= 10
    assert unknown_names(exprs.values(), exported | PROMETHEUS_SERIES) == {}


def test_every_alert_rule_uses_only_exported_metrics(exported: set[str]) -> None:
    exprs = [str(rule["expr"]) for rule in rules()]
    assert unknown_names(exprs, exported | PROMETHEUS_SERIES) == {}


def test_the_name_check_finds_a_misspelt_metric(exported: set[str]) -> None:
    expr = 'sum(rate(akar_http_request_total{job="akar-gate"}[5m])) / on(job) akar_ready'
    assert metric_names(expr) == {"akar_http_request_total", "akar_ready"}
    unknown = unknown_names([expr], exported | PROMETHEUS_SERIES)
    assert unknown[expr] >= {"akar_http_request_total"}


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (job, le) (rate(a_bucket{route=~"/v2/models/{model_name}/ready"}[5m]))',
            {"a_bucket"},
        ),
        ("histogram_quantile(0.99, sum without (pid) (b[1h] offset 1w))", {"b"}),
        ("c / on (job) group_left (x) d > bool 1e3 or absent(e) unless vector(1)", {"c", "d", "e"}),
        ("count(count by (v) (f == 1)) > 1", {"f"}),
        ("sum(rate(g[5m:1m]))", {"g"}),
        ("(h > 2 or (i < 0.5)) and on (job) (j) unless (k)", {"h", "i", "j", "k"}),
    ],
)
def test_metric_names_reads_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_metric_names_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="not a PromQL function"):
        metric_names("rte(akar_http_requests_total[5m])")
    with pytest.raises(ValueError, match="__name__"):
        metric_names('{__name__=~"akar_.*"}')


def test_grafana_variables_are_all_filled_in() -> None:
    for where, expr in _expressions().items():
        assert "$" not in expr, f"{where}: a Grafana variable this test does not know: {expr}"


@needs_promtool
def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    exprs = {re.sub(r"\W", "_", f"dashboard:{k}"): v for k, v in _expressions().items()}
    result = check_expressions_parse(exprs, tmp_path)
    assert result.returncode == 0, output(result)
    assert f"SUCCESS: {len(exprs)} rules found" in result.stdout, output(result)


@needs_promtool
def test_the_parse_check_catches_a_broken_query(tmp_path: Path) -> None:
    result = check_expressions_parse({"broken": "sum(rate(akar_ready[5m])"}, tmp_path)
    assert result.returncode != 0, output(result)


def test_the_dashboard_shows_what_operations_needs() -> None:
    exprs = "\n".join(_expressions().values())
    for needed in [
        "sum by (status) (rate(akar_http_requests_total",  # requests/s by status
        'status=~"5.."',  # 5xx share
        "histogram_quantile(0.5, sum by (le) (rate(akar_http_request_duration_seconds_bucket",
        "histogram_quantile(0.99, sum by (le) (rate(akar_http_request_duration_seconds_bucket",
        "akar_http_requests_in_flight",
        "sum by (decision, cluster) (rate(akar_listings_screened_total",
        'decision="block"}[1h] offset 1w',  # block share against last week
        "akar_model_info",  # versions per worker
        "akar_model_load_failures_total",
        "akar_ready",
        "akar_challenger_decisions_total",
        "akar_drift_psi",
    ]:
        assert needed in exprs, needed


def test_panels_are_well_formed() -> None:
    dashboard = _dashboard()
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert "datasource" in variables
    panels = _panels()
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(box["x"], box["x"] + box["w"])
            for y in range(box["y"], box["y"] + box["h"])
        }
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
