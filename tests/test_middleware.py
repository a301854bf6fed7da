from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.middleware import json_depth_exceeds


@pytest.mark.parametrize(
    ("body", "limit", "deep"),
    [
        (b'{"a": [[[1]]]}', 4, False),
        (b'{"a": [[[1]]]}', 3, True),
        (b'{"a": "[[[[[[[["}', 2, False),  # brackets inside strings do not count
        (b'{"a": "\\\\\\"[[[[["}', 2, False),  # nor after escaped quotes
        (b"[" * 10_000, 32, True),
    ],
)
def test_json_depth(body: bytes, limit: int, deep: bool) -> None:
    assert json_depth_exceeds(body, limit) is deep


def test_deeply_nested_json_is_a_400_not_a_crash(client: TestClient) -> None:
    body = b'{"title": "x", "extra": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = client.post("/v1/screen", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["code"] == "JSON_TOO_DEEP"
