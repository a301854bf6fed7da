from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from app import middleware
from app.middleware import RequestLimits, json_depth_exceeds


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
    assert sum(n for _, n in read) <= 8 * len(body)
    # A fixed pipeline: no stage repeats per quote, bracket or escape.
    assert len(read) in (0, 2, 8)
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


@pytest.mark.parametrize("n", [5_000, middleware.CHECK_IN_THREAD_BYTES])  # on the loop; in a thread
def test_deeply_nested_json_is_a_400_not_a_crash(client: TestClient, n: int) -> None:
    body = b'{"title": "x", "extra": ' + b"[" * n + b"]" * n + b"}"
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


# -- bodies that stop arriving, driven at the ASGI level (no server, no timing races)


class _Recorder:
    """An inner app that answers 200 with the body it was given, and a `send` that keeps what
    the middleware sent."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": message["body"]})

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        starts = [m["status"] for m in self.sent if m["type"] == "http.response.start"]
        return starts[0] if starts else None


def _scope(path: str = "/v1/screen") -> Scope:
    return {"type": "http", "method": "POST", "path": path, "headers": []}


def _held_body(first: bytes) -> Receive:
    """A receive that gives one chunk saying more will come, then nothing, ever."""
    given = False

    async def receive() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": first, "more_body": True}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return receive


def _whole_body(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def test_a_body_that_stops_arriving_gets_408_and_gives_its_bytes_back() -> None:
    recorder = _Recorder()
    limits = RequestLimits(
        recorder.app, max_bytes=10_000, max_depth=8, max_inflight_bytes=10_000, body_timeout=0.05
    )
    asyncio.run(limits(_scope(), _held_body(b'{"title": "'), recorder.send))
    assert recorder.status == 408
    assert (b"connection", b"close") in recorder.sent[0]["headers"]
    assert json.loads(recorder.sent[1]["body"])["code"] == "REQUEST_TIMEOUT"
    assert limits.inflight_bytes == 0


def test_stalled_bodies_make_room_for_a_whole_one_at_the_in_flight_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(middleware, "STALLED_SECONDS", 0.0)
    held, fresh = _Recorder(), _Recorder()
    limits = RequestLimits(
        held.app, max_bytes=1_000, max_depth=8, max_inflight_bytes=1_000, body_timeout=60
    )

    async def scenario() -> None:
        holder = asyncio.create_task(limits(_scope(), _held_body(b"x" * 900), held.send))
        await asyncio.sleep(0.01)  # the holder's first chunk is in, and it waits for more
        assert limits.inflight_bytes == 900
        await limits(_scope(), _whole_body(b'{"title": "kemeja"}' * 10), fresh.send)
        await asyncio.wait_for(holder, 5)

    asyncio.run(scenario())
    assert fresh.status == 200  # the whole body was served, not refused with 503
    assert held.status == 408  # the stalled one was dropped for it
    assert limits.inflight_bytes == 0  # and nothing is counted twice


def test_a_moving_body_is_not_dropped_for_another(monkeypatch: pytest.MonkeyPatch) -> None:
    # A body that moved within STALLED_SECONDS keeps its place, and the newcomer is refused
    # with 503 as before. (A minute: no pause of a busy machine makes the holder stalled.)
    monkeypatch.setattr(middleware, "STALLED_SECONDS", 60.0)
    held, fresh = _Recorder(), _Recorder()
    limits = RequestLimits(
        held.app, max_bytes=1_000, max_depth=8, max_inflight_bytes=1_000, body_timeout=60
    )

    async def scenario() -> None:
        holder = asyncio.create_task(limits(_scope(), _held_body(b"x" * 900), held.send))
        await asyncio.sleep(0.01)
        await limits(_scope(), _whole_body(b"y" * 200), fresh.send)
        holder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await holder

    asyncio.run(scenario())
    assert fresh.status == 503
    assert held.status is None
    assert limits.inflight_bytes == 0
