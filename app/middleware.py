"""Pure ASGI middleware: request limits enforced before any parsing.

A body over the size limit gets 413 (with or without Content-Length); JSON nested deeper
than the limit gets 400, because the JSON parser would recurse on it (and a client should
not be able to make us spend a stack on ignored fields).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import anyio
import anyio.to_thread
import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api_errors import error_body, headers_of, status_of
from app.errors import OverloadedError

# The depth check is a fixed pipeline of primitives, each linear in its input by contract, with
# no regex that could backtrack: (1) escapes removed by six bytes.replace passes (memchr-speed):
# first every escaped backslash (pairs, left to right, as a run of backslashes reads), then a
# lone backslash with the quote or bracket it escapes (after the pairs are gone every backslash
# left is lone, and removing it with its byte cannot join a new escape); (2) everything but
# quotes and brackets deleted (bytes.translate); (3) the brackets between quotes masked out
# by the parity of the quotes before them (a running xor), and (4) the running depth's maximum
# (numpy cumsum). A backslash outside a string is not JSON; the parser stops there, and up to
# that byte this check read the body as the parser does.
_ESCAPES = (b"\\\\", b'\\"', b"\\[", b"\\]", b"\\{", b"\\}")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
# Brackets as steps of depth: +1 for an opening one, -1 (0xff as int8) for a closing one, and a
# quote 0 (it is masked by the string mask anyway).
_STEPS = bytes.maketrans(b'[{]}"', b"\x01\x01\xff\xff\x00")
_QUOTE = ord('"')

Trace = Callable[[str, int], None]


def json_depth_exceeds(body: bytes, max_depth: int, trace: Trace | None = None) -> bool:
    """True when brackets outside strings nest deeper than max_depth. `trace(stage, n)`, when
    given, is told the bytes each stage reads: the operations, for the linearity test."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False  # the common case: too few brackets to nest that deep
    note = trace or (lambda stage, n: None)
    unescaped = body
    if b"\\" in body:
        for escape in _ESCAPES:
            note("escapes", len(unescaped))
            if escape in unescaped:  # a search, no copy, when there is nothing to remove
                unescaped = unescaped.replace(escape, b"")
    note("structure", len(unescaped))
    structure = unescaped.translate(None, _NOT_STRUCTURE)
    note("depth", len(structure))
    if not structure:
        return False
    quotes = np.frombuffer(structure, np.uint8) == _QUOTE
    # Inside a string: after an odd number of quotes (a running xor), and the quotes themselves.
    inside = np.bitwise_xor.accumulate(quotes.view(np.uint8)).view(bool) | quotes
    steps = np.frombuffer(structure.translate(_STEPS), np.int8) * ~inside
    depth = np.cumsum(steps, dtype=np.int32)
    return bool(depth.max() > max_depth)


# Bodies at least this large are depth-checked in a thread: about 1 ms of checking on the loop.
CHECK_IN_THREAD_BYTES = 64 * 1024
# A body that sent nothing for this long is stalled: when the in-flight bound is reached it is
# dropped (408) to make room, rather than refusing a request that arrives whole.
STALLED_SECONDS = 0.25


class _Stalled(Exception):
    """The body stopped arriving: no chunk within the timeout, or evicted as stalled."""


class _Receiving:
    """A body still arriving, in more than one message: what it holds and when it last moved."""

    __slots__ = ("held", "moved", "evicted")

    def __init__(self, held: int) -> None:
        self.held = held
        self.moved = time.monotonic()
        self.evicted = anyio.Event()


class InflightBytes:
    """The request bytes one worker holds at once, HTTP bodies and gRPC messages together,
    against one bound (`AKAR_MAX_INFLIGHT_BYTES`). Both are served by the worker's one event
    loop, so no lock is needed."""

    __slots__ = ("held", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    @property
    def over(self) -> bool:
        return self.held > self.limit


class RequestLimits:
    """Body size, JSON depth and the bytes of bodies held at once, checked before any parsing.

    A body that arrives in more than one message must keep moving: no gap between its chunks
    longer than `body_timeout` (408), and when the bodies held reach the in-flight bound, the
    ones stalled for `STALLED_SECONDS` are dropped (408) before a new request is refused. So a
    client that opens bodies and holds them can neither pin memory nor lock others out."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_depth: int,
        max_inflight_bytes: int,
        body_timeout: float = 10.0,
        inflight: InflightBytes | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.body_timeout = body_timeout
        # Shared with gRPC when it is on (app/main.py), so both count against one bound.
        self.inflight = inflight if inflight is not None else InflightBytes(max_inflight_bytes)
        self._receiving: set[_Receiving] = set()

    @property
    def inflight_bytes(self) -> int:
        return self.inflight.held

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, send)
            return
        held = 0  # this request's share of inflight_bytes, given back when it is answered
        arriving: _Receiving | None = None  # set once the body needs a second message
        try:
            # Read the body up front (it is small by construction) and replay it to the app.
            chunks: list[bytes] = []
            more = True
            while more:
                if arriving is None:
                    message = await receive()
                else:
                    message = await self._next_chunk(receive, arriving)
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                held += len(chunk)
                self.inflight.held += len(chunk)
                if held > self.max_bytes:
                    await self._too_large(scope, send)
                    return
                if self.inflight.over:
                    self._evict_stalled()
                if self.inflight.over:
                    overloaded = OverloadedError(
                        "this worker holds too many request bodies; retry shortly"
                    )
                    await _reject(
                        scope,
                        send,
                        status_of(overloaded),
                        overloaded.code,
                        str(overloaded),
                        headers=headers_of(overloaded),
                    )
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
                if more and arriving is None:
                    arriving = _Receiving(held)
                    self._receiving.add(arriving)
                elif arriving is not None:
                    arriving.held, arriving.moved = held, time.monotonic()
            if arriving is not None:
                self._receiving.discard(arriving)
            body = b"".join(chunks)
            if await self._too_deep(body):
                detail = f"JSON nests deeper than {self.max_depth} levels"
                await _reject(scope, send, 400, "JSON_TOO_DEEP", detail)
                return
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
        except _Stalled:
            detail = "the request body stopped arriving; send it whole, without pauses"
            await _reject(scope, send, 408, "REQUEST_TIMEOUT", detail, close=True)
        finally:
            if arriving is not None:
                self._receiving.discard(arriving)
                if arriving.evicted.is_set():
                    held = 0  # given back already, by the request that evicted it
            self.inflight.held -= held

    async def _too_deep(self, body: bytes) -> bool:
        """The depth check; for a large body in a thread (its numpy stages let go of the GIL),
        so that the event loop keeps answering other requests, probes among them."""
        if len(body) < CHECK_IN_THREAD_BYTES:
            return json_depth_exceeds(body, self.max_depth)
        return await anyio.to_thread.run_sync(json_depth_exceeds, body, self.max_depth)

    async def _next_chunk(self, receive: Receive, arriving: _Receiving) -> Message:
        """The next message of a body, unless it stalls past the timeout or is evicted (anyio,
        so that it runs on either of its back ends)."""
        got: list[Message] = []

        async def get(scope: anyio.CancelScope) -> None:
            got.append(await receive())
            scope.cancel()

        async def watch(scope: anyio.CancelScope) -> None:
            await arriving.evicted.wait()
            scope.cancel()

        with anyio.move_on_after(self.body_timeout):
            async with anyio.create_task_group() as group:
                group.start_soon(get, group.cancel_scope)
                group.start_soon(watch, group.cancel_scope)
        if arriving.evicted.is_set() or not got:
            raise _Stalled
        return got[0]

    def _evict_stalled(self) -> None:
        """Drops the bodies that have not moved for STALLED_SECONDS; their bytes are given back
        now, so the request that needs the room can have it."""
        now = time.monotonic()
        for arriving in list(self._receiving):
            if now - arriving.moved >= STALLED_SECONDS and not arriving.evicted.is_set():
                arriving.evicted.set()
                self._receiving.discard(arriving)
                self.inflight.held -= arriving.held

    async def _too_large(self, scope: Scope, send: Send) -> None:
        detail = f"request body is larger than {self.max_bytes} bytes"
        await _reject(scope, send, 413, "PAYLOAD_TOO_LARGE", detail)


async def _reject(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
    close: bool = False,
) -> None:
    """An error before routing, in the shape of the API the path belongs to."""
    body = json.dumps(error_body(scope["path"], code, detail)).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if close:  # the rest of the body may still come: the connection cannot carry another request
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
