from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.errors import ModelStoreError
from app.main import create_app


def test_healthz_needs_no_model(make_client: Any, tmp_path: Path) -> None:
    c = make_client(model_dir=tmp_path, require_model=False)
    assert c.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_200_with_versions_once_loaded(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ready",
        "model_version": "tiny-1",
        "policy_version": "akar-2021.1",
        "reason": None,
        "workers": None,  # one process: no group
    }


def test_readyz_is_503_with_the_reason_when_no_model_loaded(
    make_client: Any, tmp_path: Path
) -> None:
    c = make_client(model_dir=tmp_path, require_model=False)
    r = c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["status"] == "not_ready"
    assert "MODEL_STORE_ERROR" in r.json()["reason"]


def test_screening_without_a_model_is_503_not_500(make_client: Any, tmp_path: Path) -> None:
    c = make_client(model_dir=tmp_path, require_model=False)
    r = c.post("/v1/screen", json={"title": "kopi"})
    assert r.status_code == 503
    assert r.json()["code"] == "NOT_READY"


def test_startup_fails_loudly_when_the_model_is_required(tmp_path: Path) -> None:
    app = create_app(Settings(model_dir=tmp_path))
    with pytest.raises(ModelStoreError), TestClient(app):
        pass


def test_a_bad_policy_file_keeps_the_service_unready(make_client: Any, tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("version: v\nmode: loud\n")
    c = make_client(policy_path=bad, require_model=False)
    r = c.get("/readyz")
    assert r.status_code == 503
    assert "POLICY_ERROR" in r.json()["reason"]


def test_head_works_on_the_health_endpoints(client: TestClient) -> None:
    for path in ("/healthz", "/readyz"):
        r = client.head(path)
        assert r.status_code == 200 and r.content == b""


def test_head_on_readyz_says_not_ready_without_a_model(make_client: Any, tmp_path: Path) -> None:
    c = make_client(model_dir=tmp_path, require_model=False)
    assert c.head("/readyz").status_code == 503
