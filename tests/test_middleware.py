from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.middleware import json_depth_exceeds


def _reference_depth_exceeds(body: bytes, max_depth: int) -> bool:
    """The same check, one byte at a time: obviously linear, and obviously right. (A backslash
    escapes the next byte outside strings too: that is not JSON, and the parser stops there.)"""
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if escaped:
            escaped = False
        elif byte == ord("\\"):
            escaped = True
        elif in_string:
            if byte == ord('"'):
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


# Adversarial bodies: long runs of escapes, quotes, brackets and plain bytes, in any order.
_RUNS = st.lists(
    st.tuples(
        st.sampled_from([b"[", b"]", b"{", b"}", b'"', b"\\", b'\\"', b"a", b'["\\', b"[\\"]),
        st.integers(min_value=1, max_value=4000),
    ),
    max_size=12,
).map(lambda runs: b"".join(part * n for part, n in runs))


@settings(max_examples=300, deadline=None)
@given(_RUNS, st.integers(min_value=1, max_value=64))
def test_the_depth_check_does_work_linear_in_the_body(body: bytes, limit: int) -> None:
    # Operations counted, not timed: the bytes each stage of the check reads.
    read: list[tuple[str, int]] = []
    deep = json_depth_exceeds(body, limit, trace=lambda stage, n: read.append((stage, n)))
    assert sum(n for _, n in read) <= 4 * len(body)
    assert len(read) in (0, 4)  # a fixed pipeline: no stage repeats per quote or bracket
    assert deep is _reference_depth_exceeds(body, limit)


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


def test_errors_before_routing_take_each_apis_shape(make_client: Any) -> None:
    client = make_client(max_body_bytes=2_000)
    big = b'{"title": "' + b"x" * 3_000 + b'"}'
    deep = b'{"title": "x", "extra": ' + b"[" * 100 + b"]" * 100 + b"}"
    headers = {"content-type": "application/json"}
    for body, status in ((big, 413), (deep, 400)):
        v1 = client.post("/v1/screen", content=body, headers=headers)
        assert v1.status_code == status
        assert set(v1.json()) == {"code", "detail"}
        v2 = client.post("/v2/models/akar-gate/infer", content=body, headers=headers)
        assert v2.status_code == status
        assert set(v2.json()) == {"error"}


def test_bodies_past_the_in_flight_bound_get_503_with_retry_after(make_client: Any) -> None:
    client = make_client(max_inflight_bytes=500)
    listing = {"title": "kemeja batik pria " * 40}
    r = client.post("/v1/screen", json=listing)
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    assert r.json()["code"] == "OVERLOADED"
    # What a refused request held is given back: a small one passes afterwards.
    assert client.post("/v1/screen", json={"title": "kemeja"}).status_code == 200
