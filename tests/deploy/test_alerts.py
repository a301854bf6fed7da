"""deploy/prometheus: the alert rules pass `promtool check rules` and their unit tests
(`promtool test rules`), every alert has a firing and a silent case, those cases catch a
changed rule, and deploy/k8s/prometheusrule.yaml holds the same groups."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.promql import (
    DEPLOY,
    RULE_TESTS,
    RULES,
    alerts,
    needs_promtool,
    output,
    promtool,
)

RUNBOOK = DEPLOY.parent / "docs" / "operations.md"
PROMETHEUS_RULE = DEPLOY / "k8s" / "prometheusrule.yaml"
ASKED_FOR = {
    "AkarGateNotReady",
    "AkarGate5xxRate",
    "AkarGateLatencyP99",
    "AkarGateModelLoadFailures",
    "AkarGateWorkersServeDifferentVersions",
    "AkarGateBlockRateJump",
    "AkarGateChallengerDisagreement",
    "AkarGateDrift",
}


def _alert_cases() -> dict[str, dict[str, int]]:
    """Per alert, how many unit-test checks expect it firing and how many expect silence."""
    cases: dict[str, dict[str, int]] = {}
    for path in RULE_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for check in test.get("alert_rule_test", []):
                counts = cases.setdefault(check["alertname"], {"firing": 0, "silent": 0})
                counts["firing" if check.get("exp_alerts") else "silent"] += 1
    return cases


def test_the_alerts_asked_for_are_all_there() -> None:
    assert set(alerts()) == ASKED_FOR


@pytest.mark.parametrize("name", sorted(ASKED_FOR))
def test_each_alert_has_a_severity_a_summary_and_a_description(name: str) -> None:
    rule: dict[str, Any] = alerts()[name]
    assert rule["labels"]["severity"] in {"critical", "warning", "info"}
    assert rule["annotations"]["summary"].strip()
    assert "Runbook: docs/operations.md#alerts-and-dashboard" in rule["annotations"]["description"]
    # Every alert is about the service's scrape job, as the runbook says.
    assert 'job="akar-gate"' in rule["expr"]


def test_each_alert_has_a_runbook_line_in_the_docs() -> None:
    text = RUNBOOK.read_text()
    heading = "### Alerts and dashboard"
    assert heading in text
    section = text.split(heading, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    for name in ASKED_FOR:
        assert re.search(rf"^\| `{name}` \|", section, re.MULTILINE), name


def test_every_alert_has_a_firing_and_a_silent_unit_test() -> None:
    cases = _alert_cases()
    assert set(cases) == ASKED_FOR
    for name, counts in cases.items():
        assert counts["firing"] >= 1, name
        assert counts["silent"] >= 1, name


def test_the_prometheus_rule_is_the_rules_file_wrapped() -> None:
    spec = importlib.util.spec_from_file_location(
        "prometheusrule", RULES.parent / "prometheusrule.py"
    )
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert PROMETHEUS_RULE.read_text() == generator.render(RULES.read_text()), (
        "deploy/k8s/prometheusrule.yaml is out of date: python deploy/prometheus/prometheusrule.py"
    )
    resource = yaml.safe_load(PROMETHEUS_RULE.read_text())
    assert resource["apiVersion"] == "monitoring.coreos.com/v1"
    assert resource["kind"] == "PrometheusRule"
    assert resource["metadata"]["labels"] == {"app.kubernetes.io/name": "akar-gate"}
    assert set(resource["spec"]) == {"groups"}
    assert resource["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]


@needs_promtool
def test_promtool_check_rules_passes() -> None:
    result = promtool("check", "rules", RULES)
    assert result.returncode == 0, output(result)
    assert f"SUCCESS: {len(ASKED_FOR)} rules found" in result.stdout, output(result)


@needs_promtool
def test_promtool_unit_tests_pass() -> None:
    result = promtool("test", "rules", *RULE_TESTS)
    assert result.returncode == 0, output(result)
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS), output(result)


@needs_promtool
def test_promtool_check_rules_catches_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text(RULES.read_text().replace("[5m]))", "[5m])", 1))
    result = promtool("check", "rules", broken)
    assert result.returncode != 0, output(result)


# A changed rule the unit tests must catch: (alert, field, text, replacement, test file).
MUTATIONS = [
    ("AkarGateNotReady", "for", "2m", "0s", "not_ready.yaml"),
    ("AkarGateNotReady", "expr", 'or absent(up{job="akar-gate"})', "", "not_ready.yaml"),
    ("AkarGateNotReady", "expr", 'or up{job="akar-gate"} == 0', "", "not_ready.yaml"),
    ("AkarGate5xxRate", "expr", "> 0.01", "> 0.02", "errors.yaml"),
    ("AkarGate5xxRate", "expr", 'status!="499", ', "", "errors.yaml"),
    ("AkarGate5xxRate", "expr", 'status=~"5..", route!~', 'status=~"5..", route!=', "errors.yaml"),
    ("AkarGate5xxRate", "for", "5m", "2m", "errors.yaml"),
    (
        "AkarGateLatencyP99",
        "expr",
        "histogram_quantile(0.99,",
        "histogram_quantile(0.95,",
        "latency.yaml",
    ),
    ("AkarGateLatencyP99", "expr", 'route="/v1/screen", ', "", "latency.yaml"),
    ("AkarGateLatencyP99", "expr", 'status!="499"', 'status!="x"', "latency.yaml"),
    (
        "AkarGateLatencyP99",
        "expr",
        "sum by (job, le)",
        "sum by (job, instance, le)",
        "latency.yaml",
    ),
    ("AkarGateModelLoadFailures", "expr", "[10m]", "[30m]", "model.yaml"),
    ("AkarGateModelLoadFailures", "expr", "increase(", "delta(", "model.yaml"),
    ("AkarGateWorkersServeDifferentVersions", "expr", " == 1)", ")", "model.yaml"),
    ("AkarGateWorkersServeDifferentVersions", "for", "5m", "2m", "model.yaml"),
    ("AkarGateBlockRateJump", "expr", ">= 1000", ">= 0", "block_rate.yaml"),
    ("AkarGateChallengerDisagreement", "expr", "> 0.05", "> 0.1", "challenger.yaml"),
    ("AkarGateChallengerDisagreement", "expr", ">= 1000", ">= 0", "challenger.yaml"),
    ("AkarGateChallengerDisagreement", "expr", "or increase(", "+ increase(", "challenger.yaml"),
    (
        "AkarGateChallengerDisagreement",
        "expr",
        'serving="block", challenger="block"',
        'serving="block", challenger="allow"',
        "challenger.yaml",
    ),
    ("AkarGateChallengerDisagreement", "for", "30m", "10m", "challenger.yaml"),
    ("AkarGateDrift", "expr", "min by", "max by", "drift.yaml"),
    ("AkarGateDrift", "expr", "> 0.25", "> 0.15", "drift.yaml"),
    ("AkarGateDrift", "for", "30m", "10m", "drift.yaml"),
]


def _run_with(tmp_path: Path, data: dict[str, Any], tests: str) -> Any:
    """Runs one unit-test file against `data` written as the rules file, in a scratch folder."""
    (tmp_path / RULES.name).write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "tests").mkdir()
    shutil.copy(RULES.parent / "tests" / tests, tmp_path / "tests" / tests)
    return promtool("test", "rules", f"tests/{tests}", cwd=tmp_path)


@needs_promtool
@pytest.mark.parametrize("tests", sorted({m[-1] for m in MUTATIONS}))
def test_the_rules_rewritten_unchanged_still_pass(tmp_path: Path, tests: str) -> None:
    """The control for the mutations below: the same set-up with the rules as they are."""
    result = _run_with(tmp_path, yaml.safe_load(RULES.read_text()), tests)
    assert result.returncode == 0, output(result)


@needs_promtool
@pytest.mark.parametrize(("alert", "field", "old", "new", "tests"), MUTATIONS)
def test_the_unit_tests_catch_a_changed_rule(
    tmp_path: Path, alert: str, field: str, old: str, new: str, tests: str
) -> None:
    data = yaml.safe_load(RULES.read_text())
    [rule] = [r for g in data["groups"] for r in g["rules"] if r.get("alert") == alert]
    assert old in rule[field], f"mutation target {old!r} not in {alert}'s {field}: update it"
    rule[field] = rule[field].replace(old, new)
    result = _run_with(tmp_path, data, tests)
    assert result.returncode == 1, output(result)
    assert "FAILED:" in result.stdout + result.stderr, output(result)
