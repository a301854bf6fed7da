"""Builds the app: settings, lifespan (model and policy loaded once), routes, error handlers."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from app.config import Settings, get_settings
from app.errors import AkarError, register_error_handlers
from app.middleware import RequestLimits
from app.observability.access import AccessLog
from app.observability.logs import JsonFormatter
from app.observability.metrics import Metrics
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


def _reload_on_sighup(state: ServiceState) -> None:
    def reload_logged() -> None:
        try:
            state.reload()
        except AkarError:
            pass  # logged by reload; the old model serves on

    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.run_in_executor(None, reload_logged))
        if state.group is not None:
            # Another worker coordinates a reload round: do what it asks of this one.
            notice = functools.partial(state.group.on_notice, state)
            loop.add_signal_handler(signal.SIGUSR1, lambda: loop.run_in_executor(None, notice))
    except (NotImplementedError, RuntimeError, ValueError):
        # Not the main thread (e.g. a test client): reload over HTTP only.
        logger.debug("SIGHUP reload not available in this thread")


def _drain_on_sigterm(state: ServiceState, seconds: float) -> None:
    """On SIGTERM: readiness 503 at once, and only after `seconds` hand the signal to the
    server (uvicorn), which then stops accepting, finishes in-flight requests and exits 0."""
    try:
        server_handler = signal.getsignal(signal.SIGTERM)
    except ValueError:
        return
    if not callable(server_handler):
        return

    # uvicorn's handler is its Server's `handle_exit`; it records the signal and raises it
    # again after shutdown, so the process would die of SIGTERM. Asking the server to exit
    # through `should_exit` (its documented stop flag) shuts down the same way and exits 0.
    server = getattr(server_handler, "__self__", None)

    def stop(sig: int, frame: FrameType | None) -> None:
        if server is not None and hasattr(server, "should_exit"):
            server.should_exit = True
        else:
            server_handler(sig, frame)

    def on_sigterm(sig: int, frame: FrameType | None) -> None:
        state.shut_down()
        logger.info("SIGTERM: not ready; stopping in %.1f s", seconds)
        timer = threading.Timer(seconds, stop, args=(sig, frame))
        timer.daemon = True
        timer.start()

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:
        pass  # not the main thread (e.g. a test client): nothing to drain


def _document_optional_auth(app: FastAPI) -> None:
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
        _reload_on_sighup(state)
        _drain_on_sigterm(state, settings.shutdown_drain_seconds)
        grpc_server = None
        if settings.grpc_port is not None:
            # Imported only here: see app/grpc_api/__init__.py.
            from app.grpc_api import server as grpc_api

            grpc_server = await grpc_api.start(state, metrics, settings)
        # Memory freed after large batches goes back to the system (app/serving.py).
        trimmer = asyncio.create_task(give_back_memory_periodically())
        yield
        trimmer.cancel()
        if grpc_server is not None:
            await grpc_api.stop(grpc_server)
        for sig in (signal.SIGHUP, signal.SIGUSR1):
            try:
                asyncio.get_running_loop().remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
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
        _document_optional_auth(app)
    return app


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler])
