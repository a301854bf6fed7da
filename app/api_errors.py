"""The one error map: domain errors to HTTP statuses, and every error to its API's shape.

`/v1` answers `{"code", "detail"}`; `/v2` (the Open Inference Protocol) answers `{"error"}`.
The route handlers' errors (`register_error_handlers`) and the ones raised before routing
(`app/middleware.py`: size, depth, in-flight bound, stalled bodies) take their shape from
`error_body` here, and gRPC maps the same statuses to its codes (`status_of`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app.errors import (
    AkarError,
    BadInferenceRequestError,
    ForbiddenError,
    ModelNotFoundError,
    NotReadyError,
    OverloadedError,
    UnauthorizedError,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger("akar_gate")

# A domain error's HTTP status; any other (a model store, policy or reload failure) is 500.
STATUS: dict[type[AkarError], int] = {
    BadInferenceRequestError: 400,
    UnauthorizedError: 401,
    ForbiddenError: 403,
    ModelNotFoundError: 404,
    NotReadyError: 503,
    OverloadedError: 503,
}
# Seconds a client refused for load should wait (Retry-After) before it tries again.
RETRY_AFTER_SECONDS = 1
HEADERS: dict[type[AkarError], dict[str, str]] = {
    UnauthorizedError: {"WWW-Authenticate": "Bearer"},
    OverloadedError: {"Retry-After": str(RETRY_AFTER_SECONDS)},
}


def status_of(exc: AkarError) -> int:
    return next((s for t, s in STATUS.items() if isinstance(exc, t)), 500)


def headers_of(exc: AkarError) -> dict[str, str] | None:
    return next((h for t, h in HEADERS.items() if isinstance(exc, t)), None)


V2_PREFIX = "/v2"


def speaks_v2(path: str) -> bool:
    """Under /v2 errors take the Open Inference Protocol's shape, `{"error": "..."}`."""
    return path == V2_PREFIX or path.startswith(V2_PREFIX + "/")


_SEND_JSON = "send JSON with 'Content-Type: application/json'"


def _not_json(
    errors: list[dict[str, Any]], content_type: str | None
) -> tuple[int, str, str] | None:
    """When a JSON body was expected and none came (no body, or a body FastAPI did not read as
    JSON because of its Content-Type): the status, code and detail that say so; else None."""
    body_errors = [e for e in errors if tuple(e["loc"]) == ("body",)]
    if not body_errors:
        return None
    if body_errors[0]["type"] == "missing":
        return 400, "BODY_MISSING", f"the request has no body: {_SEND_JSON}"
    if isinstance(body_errors[0].get("input"), bytes):
        sent = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
        detail = f"the body was sent with {sent}: {_SEND_JSON}"
        return 415, "UNSUPPORTED_MEDIA_TYPE", detail
    return None


def error_body(path: str, code: str, detail: Any) -> dict[str, Any]:
    """An error in the shape of the API `path` belongs to (for /v2 the detail as text)."""
    if speaks_v2(path):
        return {"error": detail if isinstance(detail, str) else str(detail)}
    return {"code": code, "detail": detail}


def register_error_handlers(app: FastAPI) -> None:
    """Every error leaves as JSON `{"code", "detail"}` (under /v2 as `{"error"}`, the
    protocol's shape); client input never becomes a 500."""
    from fastapi import Request
    from fastapi.encoders import jsonable_encoder
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    def answer(
        request: Request, status: int, code: str, detail: Any, headers: Any = None
    ) -> JSONResponse:
        body = error_body(request.url.path, code, detail)
        return JSONResponse(body, status_code=status, headers=headers)

    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AkarError)
        status = status_of(exc)
        if status >= 500:
            logger.error("request failed: %s: %s", exc.code, exc)
        return answer(request, status, exc.code, str(exc), headers_of(exc))

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        raw = list(exc.errors())
        errors = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in raw]
        if speaks_v2(request.url.path):
            where = "; ".join(
                f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" if e["loc"][1:] else e["msg"]
                for e in errors
            )
            return answer(
                request, 400, "BAD_INFERENCE_REQUEST", f"invalid inference request: {where}"
            )
        not_json = _not_json(raw, request.headers.get("content-type"))
        if not_json is not None:
            return answer(request, *not_json)
        return answer(request, 422, "VALIDATION_ERROR", jsonable_encoder(errors))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return answer(request, exc.status_code, code, exc.detail, getattr(exc, "headers", None))

    async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not the client's doing: logged with its traceback by the server, answered
        # in the API's shape without details.
        return answer(request, 500, "INTERNAL_ERROR", "internal server error")

    app.add_exception_handler(Exception, on_unexpected_error)
    app.add_exception_handler(AkarError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
