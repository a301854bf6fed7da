from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.middleware import json_depth_exceeds


def _reference_depth_exceeds(body: bytes, max_depth: int) -> bool:
    """The same check, one byte at a time: obviously linear, and obviously right."""
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == ord("\\"):
                escaped = True
            elif byte == ord('"'):
                in_string = False
        elif byte == ord('"'):
            in_string = True
        elif byte in b"[{":
            depth += 1
            if depth > max_depth:
                return True
        elif byte in b"]}":
            depth -= 1
    return False


@settings(max_examples=500)
@given(
    st.lists(
        st.sampled_from([b"[", b"]", b"{", b"}", b'"', b"\\", b'\\"', b"a", b" ", b"[" * 8]),
        max_size=200,
    ),
    st.integers(min_value=0, max_value=12),
)
def test_the_depth_check_agrees_with_a_byte_by_byte_scan(parts: list[bytes], limit: int) -> None:
    body = b"".join(parts)
    assert json_depth_exceeds(body, limit) is _reference_depth_exceeds(body, limit)


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
