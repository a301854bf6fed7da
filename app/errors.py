"""Domain errors carry their HTTP status; `register_error_handlers` maps them in one place."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger("akar_gate")


class AkarError(Exception):
    """Base of every domain error; `code` is machine-readable, the message is for people."""

    status_code = 500
    code = "INTERNAL_ERROR"


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


class PayloadTooLargeError(AkarError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


def register_error_handlers(app: FastAPI) -> None:
    """Every error leaves as JSON `{"code", "detail"}`; client input never becomes a 500."""
    from fastapi import Request
    from fastapi.encoders import jsonable_encoder
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AkarError)
        if exc.status_code >= 500:
            logger.error("request failed: %s: %s", exc.code, exc)
        return JSONResponse({"code": exc.code, "detail": str(exc)}, status_code=exc.status_code)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()]
        return JSONResponse(
            {"code": "VALIDATION_ERROR", "detail": jsonable_encoder(errors)}, status_code=422
        )

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return JSONResponse(
            {"code": code, "detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    app.add_exception_handler(AkarError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
