from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

KEY = {"Authorization": "Bearer s3cret"}


@pytest.fixture
def locked(make_client: Any) -> TestClient:
    client: TestClient = make_client(api_key_sha256=[hashlib.sha256(b"s3cret").hexdigest()])
    return client


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/v1/screen", {"title": "kopi"}),
        ("post", "/v1/screen/batch", {"listings": [{"title": "kopi"}]}),
        ("get", "/v1/model", None),
        ("get", "/v1/policy", None),
    ],
)
def test_api_routes_need_a_key_when_keys_are_configured(
    locked: TestClient, method: str, path: str, body: Any
) -> None:
    kwargs = {"json": body} if body else {}
    missing = getattr(locked, method)(path, **kwargs)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["code"] == "UNAUTHORIZED"
    wrong = getattr(locked, method)(path, headers={"Authorization": "Bearer nope"}, **kwargs)
    assert (wrong.status_code, wrong.json()["code"]) == (403, "FORBIDDEN")
    assert getattr(locked, method)(path, headers=KEY, **kwargs).status_code == 200


def test_health_and_readiness_stay_open(locked: TestClient) -> None:
    assert locked.get("/healthz").status_code == 200
    assert locked.get("/readyz").status_code == 200


def test_the_openapi_schema_declares_bearer_auth(locked: TestClient) -> None:
    schemes = locked.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
