"""Pure ASGI middleware: request id, request metrics and one JSON log line per request.

The routes add what they screened to the request's `RequestRecord`, reached through a
context variable (FastAPI copies the context into the thread pool where `def` routes run,
and the record is shared, not copied).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.logs import configure_access_logger
from app.observability.metrics import Metrics

REQUEST_ID_HEADER = "x-request-id"
# An incoming id is kept only if it is short and plain: it goes into logs and headers.
_VALID_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
UNMATCHED_ROUTE = "unmatched"
# The status recorded for a request whose client went away before any answer (nginx's
# "client closed request"): nothing was sent, and it is no server error.
CLIENT_CLOSED = 499
# Listings whose after-answer work runs on the event loop rather than in a thread.
INLINE_FOLLOW_UP = 16


@dataclass
class RequestRecord:
    """What one request screened, for its log line."""

    request_id: str
    listings: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    shadow_decisions: Counter[str] = field(default_factory=Counter)
    model_version: str | None = None
    policy_version: str | None = None
    titles: list[str] = field(default_factory=list)
    # Listing ids (or #position) on which the challenger model decided otherwise.
    challenger_disagreements: list[str] = field(default_factory=list)
    # Work to run once the answer is sent (the challenger, drift): off the answer's latency.
    after: list[Callable[[], None]] = field(default_factory=list)


current_request: ContextVar[RequestRecord | None] = ContextVar("current_request", default=None)


def request_id_or_new(incoming: str | None) -> str:
    """`incoming` (a caller's request id) when it is a plain token, else a new uuid4 (hex)."""
    if incoming is not None and _VALID_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def request_id_from(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a plain token, else a new uuid4 (hex)."""
    name: bytes
    value: bytes
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER.encode():
            return request_id_or_new(value.decode("latin-1"))
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """`/v2/models/{model_name}/infer`, not the path: labels must not grow with the input."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def _run_after(work: list[Callable[[], None]]) -> None:
    """The request's after-answer work; a failure is logged, never the client's problem."""
    for job in work:
        try:
            job()
        except Exception:
            logging.getLogger("akar_gate").exception("after-answer work failed")


class AccessLog:
    """Times every HTTP request, counts it, logs it as JSON and returns its X-Request-ID."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        log_listing_text: bool = False,
        log_level: str = "info",
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.log_listing_text = log_listing_text
        self.logger = configure_access_logger(log_level)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(request_id_from(scope))
        id_header = (REQUEST_ID_HEADER.encode(), record.request_id.encode())
        status = 500  # unless a response starts: an exception escaped and becomes a 500
        started = disconnected = False

        async def receive_watched() -> Message:
            nonlocal disconnected
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
            return message

        answered: float | None = None  # when the answer's last byte was sent

        async def send_with_id(message: Message) -> None:
            nonlocal status, started, answered
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", []), id_header]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = time.perf_counter()

        token = current_request.set(record)
        self.metrics.in_flight.inc()
        start = time.perf_counter()
        try:
            await self.app(scope, receive_watched, send_with_id)
            if record.after:
                # A few listings' follow-up takes less than a hop to a thread would (as the
                # single-listing route itself runs on the loop); a batch's goes to a thread.
                if record.listings <= INLINE_FOLLOW_UP:
                    _run_after(record.after)
                else:
                    await anyio.to_thread.run_sync(_run_after, record.after)
        except ClientDisconnect:
            disconnected = True  # raised by a body read after the client left: no 500
        finally:
            if disconnected and not started:
                status = CLIENT_CLOSED
            elapsed = (answered or time.perf_counter()) - start
            self.metrics.in_flight.dec()
            current_request.reset(token)
            route = route_template(scope)
            labels = (scope["method"], route, str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(elapsed)
            self._log(scope, record, route, status, elapsed)

    def _log(
        self, scope: Scope, record: RequestRecord, route: str, status: int, elapsed: float
    ) -> None:
        log_request(
            self.logger,
            record,
            method=scope["method"],
            route=route,
            path=scope["path"],
            status=status,
            elapsed=elapsed,
            log_listing_text=self.log_listing_text,
        )


def log_request(
    logger: logging.Logger,
    record: RequestRecord,
    *,
    method: str,
    route: str,
    path: str,
    status: int,
    elapsed: float,
    log_listing_text: bool,
    extra: dict[str, Any] | None = None,
) -> None:
    """One request's JSON line (HTTP's, and gRPC's with method "GRPC" and its code in `extra`)."""
    fields: dict[str, Any] = {
        "request_id": record.request_id,
        "method": method,
        "route": route,
        "path": path,
        "status": status,
        "latency_ms": round(elapsed * 1000, 3),
        "listings": record.listings,
        "decisions": dict(record.decisions),
        "model_version": record.model_version,
        "policy_version": record.policy_version,
    }
    fields.update(extra or {})
    if record.shadow_decisions:
        fields["shadow_decisions"] = dict(record.shadow_decisions)
    if log_listing_text and record.titles:
        fields["titles"] = record.titles
    if record.challenger_disagreements:
        fields["challenger_disagreements"] = record.challenger_disagreements
    if status == CLIENT_CLOSED:
        fields["client_disconnected"] = True
    level = logging.ERROR if 500 <= status < 600 else logging.INFO
    logger.log(level, "request", extra={"fields": fields})
