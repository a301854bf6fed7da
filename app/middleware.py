"""Pure ASGI middleware: request limits enforced before any parsing.

A body over the size limit gets 413 (with or without Content-Length); JSON nested deeper
than the limit gets 400, because the JSON parser would recurse on it (and a client should
not be able to make us spend a stack on ignored fields).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import speaks_v2

# The depth check is a fixed pipeline of primitives, each linear in its input by contract, with
# no regex that could backtrack: (1) every backslash and the byte it escapes removed (a
# two-byte pattern, one attempt per position); (2) everything but quotes and brackets deleted
# (bytes.translate); (3) what lies between quotes dropped, so only brackets outside strings
# remain (after (1) every quote opens or closes a string); (4) the running depth's maximum
# (numpy cumsum). A backslash outside a string is not JSON; the parser stops there, and up
# to that byte this check read the body as the parser does.
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
# Brackets as steps of depth: +1 for an opening one, -1 (0xff as int8) for a closing one.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")

Trace = Callable[[str, int], None]


def json_depth_exceeds(body: bytes, max_depth: int, trace: Trace | None = None) -> bool:
    """True when brackets outside strings nest deeper than max_depth. `trace(stage, n)`, when
    given, is told the bytes each stage reads: the operations, for the linearity test."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False  # the common case: too few brackets to nest that deep
    note = trace or (lambda stage, n: None)
    note("escapes", len(body))
    unescaped = _ESCAPE.sub(b"", body) if b"\\" in body else body
    note("structure", len(unescaped))
    structure = unescaped.translate(None, _NOT_STRUCTURE)
    note("outside strings", len(structure))
    outside = b"".join(structure.split(b'"')[::2])
    note("depth", len(outside))
    if not outside:
        return False
    steps = np.frombuffer(outside.translate(_STEPS), np.int8)
    return bool(np.cumsum(steps, dtype=np.int32).max() > max_depth)


# Seconds a client is asked to wait when the worker holds too many request bodies.
RETRY_AFTER_SECONDS = 1


class RequestLimits:
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, max_depth: int, max_inflight_bytes: int
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.max_inflight_bytes = max_inflight_bytes
        # Bytes of the request bodies this worker holds now (one event loop: no lock needed).
        self.inflight_bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, send)
            return
        held = 0  # this request's share of inflight_bytes, given back when it is answered
        try:
            # Read the body up front (it is small by construction) and replay it to the app.
            chunks: list[bytes] = []
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                held += len(chunk)
                self.inflight_bytes += len(chunk)
                if held > self.max_bytes:
                    await self._too_large(scope, send)
                    return
                if self.inflight_bytes > self.max_inflight_bytes:
                    await _reject(
                        scope,
                        send,
                        503,
                        "OVERLOADED",
                        "this worker holds too many request bodies; retry shortly",
                        retry_after=RETRY_AFTER_SECONDS,
                    )
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
            if json_depth_exceeds(body, self.max_depth):
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
        finally:
            self.inflight_bytes -= held

    async def _too_large(self, scope: Scope, send: Send) -> None:
        detail = f"request body is larger than {self.max_bytes} bytes"
        await _reject(scope, send, 413, "PAYLOAD_TOO_LARGE", detail)


async def _reject(
    scope: Scope, send: Send, status: int, code: str, detail: str, retry_after: int | None = None
) -> None:
    """An error before routing, in the shape of the API the path belongs to."""
    payload = {"error": detail} if speaks_v2(scope["path"]) else {"code": code, "detail": detail}
    body = json.dumps(payload).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
