"""Pure ASGI middleware: request limits enforced before any parsing.

A body over the size limit gets 413 (with or without Content-Length); JSON nested deeper
than the limit gets 400, because the JSON parser would recurse on it (and a client should
not be able to make us spend a stack on ignored fields).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        # Read the body up front (it is small by construction) and replay it to the app.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if json_depth_exceeds(body, self.max_depth):
            await _reject(
                send, 400, "JSON_TOO_DEEP", f"JSON nests deeper than {self.max_depth} levels"
            )
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        detail = f"request body is larger than {self.max_bytes} bytes"
        await _reject(send, 413, "PAYLOAD_TOO_LARGE", detail)


async def _reject(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps({"code": code, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
