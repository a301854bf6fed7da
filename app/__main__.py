"""`python -m app [--workers N]`: serve with uvicorn on AKAR host/port settings.

One worker serves the app built here (what `make run` does); with more, uvicorn starts N
processes that each build the app (`app.main:create_app`) and load the model. Both use the
protocol from `app.serving`, which sets TCP_NODELAY on each connection.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

from app.config import get_settings
from app.main import configure_logging, create_app
from app.observability.metrics import MetricsFolderError, check_metrics_folder
from app.serving import HTTP_PROTOCOL


def worker_app() -> FastAPI:
    """What each worker process builds (uvicorn imports this by name): JSON logs, then the app."""
    configure_logging(get_settings().log_level)
    return create_app()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve akar-gate.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    settings = get_settings()
    configure_logging(settings.log_level)
    if settings.prometheus_multiproc_dir is not None:
        # Before the port is bound: workers that cannot write their metrics would crash-loop
        # behind an open port. Samples of an earlier run are removed (a fresh start).
        try:
            check_metrics_folder(settings.prometheus_multiproc_dir)
        except MetricsFolderError as exc:
            parser.exit(2, f"akar-gate: {exc}\n")
        for stale in settings.prometheus_multiproc_dir.glob("*.db"):
            stale.unlink()
    # Our access middleware writes one JSON line per request; uvicorn's own line would repeat it.
    common = {
        "host": args.host,
        "port": args.port,
        "log_level": settings.log_level,
        "access_log": False,
    }
    if args.workers == 1:
        uvicorn.run(create_app(settings), http=HTTP_PROTOCOL, **common)
    else:
        uvicorn.run(
            "app.__main__:worker_app",
            factory=True,
            workers=args.workers,
            http=HTTP_PROTOCOL,
            **common,
        )


if __name__ == "__main__":
    main()
