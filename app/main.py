"""Builds the app: settings, lifespan (model and policy loaded once), routes, error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.config import Settings, get_settings
from app.errors import AkarError, register_error_handlers
from app.middleware import BodySizeLimit
from app.routes import health, metadata, screen
from app.state import ServiceState

DESCRIPTION = """
Screens marketplace listings for the AKAR import policy (Gerakan AKAR Indonesia, 2021):
predicts the listing's **cluster** (textile_fashion, culinary, handicraft, other) and
**origin** (domestic, import), applies the configurable policy, and answers
**allow / block / review** with the evidence.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = ServiceState()
        app.state.service = state
        try:
            state.load(settings)
        except AkarError:
            if settings.require_model:
                raise
        yield
        state.screener = None

    app = FastAPI(title="akar-gate", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    register_error_handlers(app)
    app.include_router(health.router)
    app.include_router(screen.router)
    app.include_router(metadata.router)
    return app


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
