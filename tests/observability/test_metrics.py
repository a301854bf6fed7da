from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.observability.metrics import Metrics

BATCH = [
    {"title": "kemeja batik", "origin_country": "CN"},  # block, textile_fashion
    {"title": "keripik tempe"},  # allow, culinary
    {"title": "charger 33w"},  # allow, other
]


def test_requests_are_counted_by_route_template_and_status(client: TestClient, scrape: Any) -> None:
    assert client.post("/v1/screen", json={"title": "kopi gayo"}).status_code == 200
    assert client.post("/v1/screen", json={"title": "kopi gayo"}).status_code == 200
    assert client.post("/v1/screen", json={"title": ""}).status_code == 422
    assert client.get("/v2/models/other/ready").status_code == 404
    assert client.get("/v1/nothing/here").status_code == 404
    m = scrape(client)
    screen = {"method": "POST", "route": "/v1/screen"}
    assert m("akar_http_requests_total", **screen, status="200") == 2
    assert m("akar_http_requests_total", **screen, status="422") == 1
    # The template, not the path: a client cannot make the label set grow.
    ready = {"method": "GET", "route": "/v2/models/{model_name}/ready", "status": "404"}
    assert m("akar_http_requests_total", **ready) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert m("akar_http_requests_total", **unmatched) == 1
    assert m("akar_http_request_duration_seconds_count", **screen, status="200") == 2
    assert m("akar_http_request_duration_seconds_bucket", **screen, status="200", le="+Inf") == 2


def test_in_flight_counts_the_scrape_that_reads_it(client: TestClient, scrape: Any) -> None:
    client.post("/v1/screen", json={"title": "kopi gayo"})
    assert scrape(client)("akar_http_requests_in_flight") == 1


def test_listings_are_counted_by_decision_cluster_and_reason(
    client: TestClient, scrape: Any
) -> None:
    assert client.post("/v1/screen/batch", json={"listings": BATCH}).status_code == 200
    m = scrape(client)
    assert m("akar_listings_screened_total", decision="block", cluster="textile_fashion") == 1
    assert m("akar_listings_screened_total", decision="allow", cluster="culinary") == 1
    assert m("akar_listings_screened_total", decision="allow", cluster="other") == 1
    assert m("akar_listings_screened_total", decision="block", cluster="culinary") is None
    reasons = "akar_screening_reasons_total"
    block = {"decision": "block", "cluster": "textile_fashion"}
    assert m(reasons, **block, reason="PROTECTED_CLUSTER_IMPORT") == 1
    assert m(reasons, **block, reason="STRUCTURED_ORIGIN_EVIDENCE") == 1
    assert m(reasons, decision="allow", cluster="culinary", reason="DOMESTIC_ORIGIN") == 1
    assert m(reasons, decision="allow", cluster="other", reason="UNPROTECTED_CLUSTER") == 1
    assert m(reasons, decision="allow", cluster="other", reason="DOMESTIC_ORIGIN") == 1
    # Enforce mode: no would-be decisions.
    assert m.names("akar_shadow_decisions_total") == set()


def test_batch_sizes_are_a_histogram_of_batch_requests_only(
    client: TestClient, scrape: Any
) -> None:
    client.post("/v1/screen", json={"title": "kopi gayo"})
    client.post("/v1/screen/batch", json={"listings": BATCH})
    infer = {"inputs": [{"name": "title", "shape": [1], "datatype": "BYTES", "data": ["kopi"]}]}
    assert client.post("/v2/models/akar-gate/infer", json=infer).status_code == 200
    m = scrape(client)
    assert m("akar_batch_size_count") == 2
    assert m("akar_batch_size_sum") == 4
    assert m("akar_batch_size_bucket", le="1.0") == 1
    assert m("akar_batch_size_bucket", le="2.0") == 1
    assert m("akar_batch_size_bucket", le="5.0") == 2


def test_a_loaded_model_is_counted_and_named(client: TestClient, scrape: Any) -> None:
    m = scrape(client)
    assert m("akar_model_loads_total") == 1
    assert m("akar_model_load_failures_total") == 0
    info = {"model_version": "tiny-1", "policy_version": "akar-2021.1", "policy_mode": "enforce"}
    assert m("akar_model_info", **info) == 1
    assert m("akar_ready") == 1


def test_a_failed_model_load_is_counted(make_client: Any, tmp_path: Path, scrape: Any) -> None:
    c = make_client(model_dir=tmp_path, require_model=False)
    m = scrape(c)
    assert m("akar_model_loads_total") == 0
    assert m("akar_model_load_failures_total") == 1
    assert m.names("akar_model_info") == set()
    assert m("akar_ready") == 0


def test_readiness_turns_off_when_shutting_down(client: TestClient, scrape: Any) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    app.state.service.shut_down()
    assert scrape(client)("akar_ready") == 0
    assert client.get("/readyz").status_code == 503


def test_shadow_mode_counts_the_would_be_decisions(
    make_client: Any, tmp_path: Path, scrape: Any
) -> None:
    policy = tmp_path / "shadow.yaml"
    policy.write_text("version: s1\nmode: shadow\n")
    c = make_client(policy_path=policy)
    assert c.post("/v1/screen/batch", json={"listings": BATCH}).status_code == 200
    m = scrape(c)
    shadow = "akar_shadow_decisions_total"
    assert m(shadow, shadow_decision="block", cluster="textile_fashion") == 1
    assert m(shadow, shadow_decision="allow", cluster="culinary") == 1
    assert m(shadow, shadow_decision="allow", cluster="other") == 1
    # What was answered: allow, all three.
    assert m("akar_listings_screened_total", decision="allow", cluster="textile_fashion") == 1
    assert m("akar_listings_screened_total", decision="block", cluster="textile_fashion") is None
    info = {"model_version": "tiny-1", "policy_version": "s1", "policy_mode": "shadow"}
    assert m("akar_model_info", **info) == 1


def test_the_info_metric_moves_to_what_serves_now() -> None:
    metrics = Metrics()
    metrics.record_model_load("m-1", "p-1", "shadow")
    metrics.set_serving("m-2", "p-1", "enforce")
    lines = metrics.render().decode().splitlines()
    before = 'akar_model_info{model_version="m-1",policy_mode="shadow",policy_version="p-1"} 0.0'
    now = 'akar_model_info{model_version="m-2",policy_mode="enforce",policy_version="p-1"} 1.0'
    assert before in lines
    assert now in lines
    assert "akar_model_loads_total 1.0" in lines


@pytest.mark.parametrize("path", ["/v1/screen", "/v1/screen/batch"])
def test_a_refused_request_is_counted_with_its_status(
    make_client: Any, scrape: Any, path: str
) -> None:
    c = make_client(max_body_bytes=100)
    r = c.post(path, content=b"x" * 200, headers={"content-type": "application/json"})
    assert r.status_code == 413
    m = scrape(c)
    assert m("akar_http_requests_total", method="POST", route="unmatched", status="413") == 1
