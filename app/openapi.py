"""The OpenAPI document's corrections: what FastAPI cannot infer from the routes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def document_optional_auth(app: FastAPI) -> None:
    """Without API keys, screening needs none: the schema says so ('security: [{}, ...]'),
    so clients and fuzzers are not told a header is required when it is not."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for path, operations in schema.get("paths", {}).items():
                if path.startswith("/v1/admin"):
                    continue
                for operation in operations.values():
                    if "security" in operation:
                        operation["security"] = [{}, *operation["security"]]
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
