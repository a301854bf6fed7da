"""Domain errors carry their HTTP status; `register_error_handlers` maps them in one place."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger("akar_gate")


class AkarError(Exception):
    """Base of every domain error; `code` is machine-readable, the message is for people."""

    status_code = 500
    code = "INTERNAL_ERROR"
    headers: dict[str, str] | None = None


class ModelStoreError(AkarError):
    """A model artifact is missing, damaged, or was made by another scikit-learn version."""

    code = "MODEL_STORE_ERROR"


class PolicyError(AkarError):
    """A policy file cannot be read or is not a valid policy."""

    code = "POLICY_ERROR"


class NotReadyError(AkarError):
    """No model or policy is loaded yet, so nothing can be screened."""

    status_code = 503
    code = "NOT_READY"


class UnauthorizedError(AkarError):
    """No API key was presented where one is required."""

    status_code = 401
    code = "UNAUTHORIZED"
    headers = {"WWW-Authenticate": "Bearer"}


class ForbiddenError(AkarError):
    """The presented key is unknown or lacks the scope."""

    status_code = 403
    code = "FORBIDDEN"


class ReloadError(AkarError):
    """A reload failed; the previous model and policy keep serving."""

    status_code = 500
    code = "RELOAD_FAILED"


class ModelNotFoundError(AkarError):
    """An Open Inference Protocol (v2) request names a model this server does not serve."""

    status_code = 404
    code = "MODEL_NOT_FOUND"


class BadInferenceRequestError(AkarError):
    """A v2 inference request whose tensors this model cannot take (names, types, shapes)."""

    status_code = 400
    code = "BAD_INFERENCE_REQUEST"


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


def register_error_handlers(app: FastAPI) -> None:
    """Every error leaves as JSON `{"code", "detail"}` (under /v2 as `{"error"}`, the
    protocol's shape); client input never becomes a 500."""
    from fastapi import Request
    from fastapi.encoders import jsonable_encoder
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AkarError)
        if exc.status_code >= 500:
            logger.error("request failed: %s: %s", exc.code, exc)
        if speaks_v2(request.url.path):
            body = {"error": str(exc)}
            return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
        return JSONResponse(
            {"code": exc.code, "detail": str(exc)}, status_code=exc.status_code, headers=exc.headers
        )

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        raw = list(exc.errors())
        errors = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in raw]
        if speaks_v2(request.url.path):
            where = "; ".join(
                f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" if e["loc"][1:] else e["msg"]
                for e in errors
            )
            return JSONResponse({"error": f"invalid inference request: {where}"}, status_code=400)
        not_json = _not_json(raw, request.headers.get("content-type"))
        if not_json is not None:
            status, code, detail = not_json
            return JSONResponse({"code": code, "detail": detail}, status_code=status)
        return JSONResponse(
            {"code": "VALIDATION_ERROR", "detail": jsonable_encoder(errors)}, status_code=422
        )

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        if speaks_v2(request.url.path):
            return JSONResponse(
                {"error": str(exc.detail)},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        return JSONResponse(
            {"code": code, "detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not the client's doing: logged with its traceback by the server, answered
        # in the API's shape without details.
        if speaks_v2(request.url.path):
            return JSONResponse({"error": "internal server error"}, status_code=500)
        return JSONResponse(
            {"code": "INTERNAL_ERROR", "detail": "internal server error"}, status_code=500
        )

    app.add_exception_handler(Exception, on_unexpected_error)
    app.add_exception_handler(AkarError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
