"""Pure ASGI middleware: request limits enforced before any parsing.

A body over the size limit gets 413 (with or without Content-Length); JSON nested deeper
than the limit gets 400, because the JSON parser would recurse on it (and a client should
not be able to make us spend a stack on ignored fields).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import speaks_v2

# A string, or an unterminated one up to the end of the body. It never fails once it starts
# and never backtracks (possessive), so removing strings is one linear pass: a pattern that
# could fail on an unterminated string would be retried at every later quote, which made a
# body of escaped quotes take quadratic time.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
_OPEN = frozenset(b"[{")


def json_depth_exceeds(body: bytes, max_depth: int) -> bool:
    """True when brackets outside strings nest deeper than max_depth."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False  # the common case: too few brackets to nest that deep
    depth = 0
    for bracket in _BRACKETS.findall(_STRING.sub(b"", body)):
        depth += 1 if bracket[0] in _OPEN else -1
        if depth > max_depth:
            return True
    return False


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
