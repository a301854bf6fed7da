"""Helpers for the Prometheus and Grafana files in deploy/: promtool, metric names in PromQL, and
the names the service exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.config import Settings
from app.main import create_app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "akar-gate-rules.yaml"
RULE_TESTS = sorted((DEPLOY / "prometheus" / "tests").glob("*.yaml"))
DASHBOARD = DEPLOY / "grafana" / "akar-gate-dashboard.json"

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not found: `make test` installs it (Debian package `prometheus`: "
    "apt-get install --no-install-recommends prometheus)",
)


def promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs promtool; the result's `output` is what to show when it failed."""
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"promtool {' '.join(result.args[1:])} exited {result.returncode}:\n" + (
        result.stdout + result.stderr
    )


def check_expressions_parse(
    exprs: dict[str, str], folder: Path
) -> subprocess.CompletedProcess[str]:
    """`promtool check rules` on a rules file holding each expression as a recording rule
    (promtool parses a query only within rules offline)."""
    rules = [{"record": name, "expr": expr} for name, expr in exprs.items()]
    path = folder / "expressions.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "expressions", "rules": rules}]}))
    return promtool("check", "rules", "--lint=none", path)


# PromQL words that are not metric names (Prometheus 2.x).
AGGREGATIONS = frozenset(
    "sum min max avg group stddev stdvar count count_values bottomk topk quantile".split()
)
FUNCTIONS = frozenset(
    """abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes
    clamp clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year
    days_in_month deg delta deriv exp floor histogram_count histogram_fraction
    histogram_quantile histogram_stddev histogram_stdvar histogram_sum holt_winters hour idelta
    increase irate label_join label_replace last_over_time ln log10 log2 max_over_time
    min_over_time minute month pi predict_linear present_over_time quantile_over_time rad rate
    resets round scalar sgn sin sinh sort sort_desc sqrt stddev_over_time stdvar_over_time
    sum_over_time tan tanh time timestamp vector year""".split()
)
# Followed by a parenthesised list of label names, not of expressions.
LABEL_LISTS = frozenset("by without on ignoring group_left group_right".split())
KEYWORDS = frozenset("bool offset and or unless atan2 inf nan start end".split())

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_TOKEN = re.compile(r"(?P<number>[0-9][\w.]*)|(?P<name>[A-Za-z_:][\w:]*)|(?P<other>\S)")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (what sits before `{`, or alone).

    Strings, label matchers `{...}` and ranges `[...]` are removed first; words followed by a
    label list (`by (job)`) skip the list. A call of something that is not a PromQL function,
    or a selector by `__name__`, raises ValueError (this reader would not see the name)."""
    if "__name__" in expr:
        raise ValueError(f"selects by __name__, which this check cannot read: {expr}")
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^{}]*\}", " ", text)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]
    names: set[str] = set()
    i = 0
    while i < len(tokens):
        kind, word = tokens[i]
        following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind != "name":
            i += 1
            continue
        lower = word.lower()
        if lower in LABEL_LISTS and following == "(":
            i = _closing(tokens, i + 1)
        elif lower in KEYWORDS:
            pass
        elif following == "(":
            if lower not in FUNCTIONS | AGGREGATIONS:
                raise ValueError(f"{word}( is not a PromQL function: {expr}")
        elif lower not in AGGREGATIONS:
            names.add(word)
        i += 1
    return names


def _closing(tokens: list[tuple[str | None, str]], start: int) -> int:
    depth = 0
    for j in range(start, len(tokens)):
        depth += {"(": 1, ")": -1}.get(tokens[j][1], 0)
        if depth == 0:
            return j
    raise ValueError("unbalanced parentheses")


def rules() -> list[dict[str, object]]:
    data = yaml.safe_load(RULES.read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]


def alerts() -> dict[str, dict[str, object]]:
    return {str(r["alert"]): r for r in rules() if "alert" in r}


def unknown_names(exprs: Iterable[str], known: set[str]) -> dict[str, set[str]]:
    """Each expression's metric names that are not in `known` (only the ones with some)."""
    found = {expr: metric_names(expr) - known for expr in exprs}
    return {expr: names for expr, names in found.items() if names}


BATCH = [
    {"title": "kemeja batik", "origin_country": "CN"},  # block, textile_fashion
    {"title": "keripik tempe"},  # allow, culinary
]


# The sample names of a metric family, by type (what a family shows once it has samples).
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
}


def _exposed_names(client: TestClient) -> set[str]:
    """The sample names /metrics shows, and those of the families it declares (`# TYPE`) that
    have no sample yet (a labelled metric before its first value: drift without a profile)."""
    r = client.get("/metrics")
    assert r.status_code == 200
    names = set()
    for family in text_string_to_metric_families(r.text):
        names |= {s.name for s in family.samples}
        names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return names


def exported_names(model_dir: Path, folder: Path) -> set[str]:
    """The names a test app's /metrics shows once most metrics have been fed: single and batch
    screening, a v2 inference, readiness, a challenger model, and a policy in shadow mode."""
    shadow = folder / "shadow.yaml"
    shadow.write_text("version: s1\nmode: shadow\n")
    names: set[str] = set()
    infer = {"inputs": [{"name": "title", "shape": [1], "datatype": "BYTES", "data": ["kopi"]}]}
    for policy in (None, shadow):
        settings = Settings(model_dir=model_dir, policy_path=policy, challenger_model_dir=model_dir)
        with TestClient(create_app(settings)) as client:
            assert client.post("/v1/screen", json=BATCH[0]).status_code == 200
            assert client.post("/v1/screen/batch", json={"listings": BATCH}).status_code == 200
            assert client.post("/v2/models/akar-gate/infer", json=infer).status_code == 200
            assert client.get("/readyz").status_code == 200
            names |= _exposed_names(client)
    return names
