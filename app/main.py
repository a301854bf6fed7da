"""Builds the app: settings, lifespan (model and policy loaded once), routes, error handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from app import signals
from app.api_errors import register_error_handlers
from app.config import Settings, get_settings
from app.errors import AkarError
from app.middleware import InflightBytes, RequestLimits
from app.observability.access import AccessLog
from app.observability.metrics import Metrics
from app.openapi import document_optional_auth
from app.routes import admin, health, metadata, screen, ui, v2
from app.routes import metrics as metrics_route
from app.serving import give_back_memory_periodically
from app.state import ServiceState
from app.workers import WorkerGroup

logger = logging.getLogger("akar_gate")

DESCRIPTION = """
Screens marketplace listings for the AKAR import policy (Gerakan AKAR Indonesia, 2021):
predicts the listing's **cluster** (textile_fashion, culinary, handicraft, other) and
**origin** (domestic, import), applies the configurable policy, and answers
**allow / block / review** with the evidence.
"""


def fresh_settings() -> Settings:
    """Settings read again from the environment (for reloads: rotated keys, a new model)."""
    get_settings.cache_clear()
    return get_settings()


def create_app(
    settings: Settings | None = None,
    settings_source: Callable[[], Settings] | None = None,
    worker_group: WorkerGroup | None = None,
) -> FastAPI:
    """`settings_source` is asked again on every reload; by default a fixed `settings` object,
    or, without one, the environment re-read. `worker_group`: the other workers a reload
    must reach (`python -m app --workers N` makes one)."""
    if settings is None:
        source = settings_source or fresh_settings
        settings = source()
    else:
        fixed = settings
        source = settings_source or (lambda: fixed)
    metrics = Metrics(multiprocess_dir=settings.prometheus_multiproc_dir)
    # The request bytes this worker holds at once, over HTTP and gRPC: one bound for both.
    inflight = InflightBytes(settings.max_inflight_bytes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = ServiceState(settings_source=source, listener=metrics, group=worker_group)
        app.state.service = state
        try:
            state.load()
        except AkarError:
            if settings.require_model:
                raise
        if worker_group is not None:
            worker_group.join(state.serving)  # a worker without a model takes part too
        signals.reload_on_sighup(state)
        signals.drain_on_sigterm(state, settings.shutdown_drain_seconds)
        grpc_server = None
        if settings.grpc_port is not None:
            # Imported only here: see app/grpc_api/__init__.py.
            from app.grpc_api import server as grpc_api

            grpc_server = await grpc_api.start(state, metrics, settings, inflight)
        # Memory freed after large batches goes back to the system (app/serving.py).
        trimmer = asyncio.create_task(give_back_memory_periodically())
        yield
        trimmer.cancel()
        if grpc_server is not None:
            await grpc_api.stop(grpc_server)
        signals.stop_reloading_on_signals()
        if worker_group is not None:
            worker_group.leave()
        state.screener = None
        metrics.close()

    # FastAPIOffline: FastAPI with /docs and /redoc served from the package's own files
    # (/static-offline-docs), so the docs work on a network without internet.
    app = FastAPIOffline(
        title="akar-gate", version="1.0.0", description=DESCRIPTION, lifespan=lifespan
    )
    app.add_middleware(
        RequestLimits,
        max_bytes=settings.max_body_bytes,
        max_depth=settings.max_json_depth,
        max_inflight_bytes=settings.max_inflight_bytes,
        body_timeout=settings.body_timeout_s,
        inflight=inflight,
    )
    # Added last, so outermost: it times, counts and logs every request, refused ones too.
    app.add_middleware(
        AccessLog,
        metrics=metrics,
        log_listing_text=settings.log_listing_text,
        log_level=settings.log_level,
    )
    app.state.metrics = metrics
    register_error_handlers(app)
    app.include_router(health.router)
    app.include_router(screen.router)
    app.include_router(metadata.router)
    app.include_router(admin.router)
    app.include_router(v2.router)
    app.include_router(metrics_route.router)
    app.include_router(ui.router)
    app.mount("/ui/static", ui.static_files, name="ui-static")
    if not settings.api_key_sha256:
        document_optional_auth(app)
    return app
