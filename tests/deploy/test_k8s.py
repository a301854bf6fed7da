"""deploy/k8s: valid against the Kubernetes schemas, and consistent with the app and each other."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from fastapi.testclient import TestClient

from app.config import Settings
from app.screening.policy import load_policy

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
# The oldest Kubernetes we support (still in upstream support when this was written);
# the manifests use only stable APIs (apps/v1, autoscaling/v2, policy/v1).
KUBERNETES_VERSION = "1.33.0"
# The PrometheusRule needs the Prometheus Operator's CRD: not in the Kubernetes schemas nor in
# kustomization.yaml (applied on its own); tests/deploy/test_alerts.py checks it.
OPERATOR_RESOURCES = {"prometheusrule.yaml"}
MANIFESTS = sorted(
    p.name for p in K8S.glob("*.yaml") if p.name not in {"kustomization.yaml", *OPERATOR_RESOURCES}
)
# Read by the image's CMD (the shell), not by Settings.
SHELL_VARIABLES = {"AKAR_WORKERS", "AKAR_PORT"}
# Measured: bench/results/http.md (106 MB a worker), 1,000-listing batches (132 MB at peak),
# the uvicorn supervisor and multiprocessing's tracker (~77 MB together).
# Steady and worst-case worker RSS (docs/operations.md "A worker's memory, worst case"),
# supervisor + tracker.
WORKER_MB, WORKER_WORST_MB, SUPERVISOR_MB = 106, 250, 78


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((K8S / name).read_text())
    assert isinstance(data, dict)
    return data


def _by_kind() -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in (_load(n) for n in MANIFESTS)}


def _container() -> dict[str, Any]:
    [container] = _by_kind()["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def _env() -> dict[str, str]:
    return {e["name"]: e["value"] for e in _container()["env"]}


def _mebibytes(quantity: str) -> float:
    match = re.fullmatch(r"(\d+)(Mi|Gi)", quantity)
    assert match is not None, quantity
    number, unit = match.groups()
    return int(number) * (1024 if unit == "Gi" else 1) * 1.048576  # in MB


@pytest.mark.parametrize("name", MANIFESTS)
def test_the_manifest_is_valid_kubernetes(name: str) -> None:
    version = kubernetes_validate.validate(_load(name), KUBERNETES_VERSION, strict=True)
    assert version == "1.33"


def test_validation_catches_a_broken_manifest() -> None:
    broken = copy.deepcopy(_load("deployment.yaml"))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    typo = copy.deepcopy(_load("deployment.yaml"))
    typo["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest() -> None:
    assert sorted(_load("kustomization.yaml")["resources"]) == MANIFESTS


def test_the_kinds_asked_for_are_all_there() -> None:
    assert set(_by_kind()) == {
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Service",
    }


def test_probes_use_the_health_endpoints(client: TestClient) -> None:
    c = _container()
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    # gRPC's health service: SERVING once the model is loaded and gRPC listens.
    assert c["startupProbe"]["grpc"] == {"port": int(_env()["AKAR_GRPC_PORT"])}
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_the_policy_configmap_is_mounted_where_the_setting_points() -> None:
    kinds = _by_kind()
    spec = kinds["Deployment"]["spec"]["template"]["spec"]
    [volume] = [v for v in spec["volumes"] if "configMap" in v]
    assert volume["configMap"]["name"] == kinds["ConfigMap"]["metadata"]["name"]
    [mount] = [m for m in _container()["volumeMounts"] if m["name"] == volume["name"]]
    policy_path = Path(_env()["AKAR_POLICY_PATH"])
    assert policy_path.parent == Path(mount["mountPath"])
    assert policy_path.name in kinds["ConfigMap"]["data"]


def test_the_configmap_holds_the_packaged_default_policy(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(_by_kind()["ConfigMap"]["data"]["policy.yaml"])
    assert load_policy(policy) == load_policy()


def test_every_akar_variable_is_a_setting_or_read_by_the_entry_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = _env()
    fields = {f"AKAR_{name.upper()}" for name in Settings.model_fields}
    assert {k for k in env if k.startswith("AKAR_")} - fields == SHELL_VARIABLES
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.policy_path == Path("/etc/akar-gate/policy.yaml")
    assert settings.prometheus_multiproc_dir == Path("/tmp/akar-gate-metrics")
    # The metric files must land on the writable emptyDir under a read-only root.
    assert _container()["securityContext"]["readOnlyRootFilesystem"] is True
    tmp_mount = {m["mountPath"] for m in _container()["volumeMounts"]}
    assert "/tmp" in tmp_mount


def test_memory_is_sized_from_the_measured_memory_per_worker() -> None:
    workers = int(_env()["AKAR_WORKERS"])
    resources = _container()["resources"]
    request = _mebibytes(resources["requests"]["memory"])
    limit = _mebibytes(resources["limits"]["memory"])
    assert request >= workers * WORKER_MB + SUPERVISOR_MB
    assert limit >= workers * WORKER_WORST_MB + SUPERVISOR_MB
    assert int(resources["requests"]["cpu"]) == workers


def test_service_pdb_and_hpa_find_the_deployment() -> None:
    kinds = _by_kind()
    deployment = kinds["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert kinds["Service"]["spec"]["selector"] == labels
    assert kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    target = kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    ports = {p["name"]: p["containerPort"] for p in _container()["ports"]}
    assert ports == {"http": int(_env()["AKAR_PORT"]), "grpc": int(_env()["AKAR_GRPC_PORT"])}
    service_ports = {p["name"]: p["targetPort"] for p in kinds["Service"]["spec"]["ports"]}
    assert service_ports == {"http": "http", "grpc": "grpc"}
    assert kinds["HorizontalPodAutoscaler"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert (
        kinds["PodDisruptionBudget"]["spec"]["minAvailable"]
        < (kinds["HorizontalPodAutoscaler"]["spec"]["minReplicas"])
    )
