"""Writes deploy/k8s/prometheusrule.yaml: the groups of akar-gate-rules.yaml in a PrometheusRule.

    python deploy/prometheus/prometheusrule.py          # after changing akar-gate-rules.yaml

The rules file's text is copied below `spec:` (indented, comments kept), so the two cannot
differ; tests/deploy/test_alerts.py fails when the written file is not what this renders.
"""

from __future__ import annotations

from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[1]
RULES = DEPLOY / "prometheus" / "akar-gate-rules.yaml"
PROMETHEUS_RULE = DEPLOY / "k8s" / "prometheusrule.yaml"

HEADER = """\
# Generated from deploy/prometheus/akar-gate-rules.yaml by deploy/prometheus/prometheusrule.py:
# do not edit here; change the rules file and run `python deploy/prometheus/prometheusrule.py`.
# For clusters running the Prometheus Operator (the PrometheusRule CRD), so it is not in
# kustomization.yaml: `kubectl apply -f deploy/k8s/prometheusrule.yaml`, with the labels your
# Prometheus's ruleSelector asks for (kube-prometheus-stack: `release: <its release name>`).
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: akar-gate
  labels:
    app.kubernetes.io/name: akar-gate
spec:
"""


def render(rules_text: str) -> str:
    """The PrometheusRule for a rules file: its lines from `groups:` on, under `spec:`."""
    lines = rules_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("groups:"))
    body = "".join(f"  {line}\n" if line.strip() else "\n" for line in lines[start:])
    return HEADER + body


def main() -> None:
    PROMETHEUS_RULE.write_text(render(RULES.read_text()))
    print(f"wrote {PROMETHEUS_RULE}")


if __name__ == "__main__":
    main()
