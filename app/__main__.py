"""`python -m app [--workers N]`: serve with uvicorn on AKAR host/port settings.

One worker serves the app built here (what `make run` does); with more, uvicorn's supervisor
starts N processes that each build the app (`worker_app`) and load the model, and share a
folder through which a reload reaches every worker or none (`app.workers`); SIGHUP to this
main process starts such a reload (uvicorn's own SIGHUP would restart the workers instead).
Both use the protocol from `app.serving`, which sets TCP_NODELAY on each connection.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import tempfile
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from app.config import get_settings
from app.main import create_app
from app.observability.logs import configure_logging
from app.observability.metrics import MetricsFolderError, check_metrics_folder
from app.serving import HTTP_PROTOCOL, bound_allocator
from app.workers import GROUP_DIR_VARIABLE, WorkerGroup, group_from_environment

logger = logging.getLogger("akar_gate")


def worker_app() -> FastAPI:
    """What each worker process builds (uvicorn imports this by name): JSON logs, then the app."""
    bound_allocator()
    configure_logging(get_settings().log_level)
    return create_app(worker_group=group_from_environment())


class Supervisor(Multiprocess):
    """uvicorn's worker supervisor, with SIGHUP handed to one worker as a group reload."""

    group: WorkerGroup

    def handle_hup(self) -> None:
        members = list(self.group.members())
        if not members:
            logger.error("SIGHUP: no worker is up to reload")
            return
        logger.info("SIGHUP: worker %s reloads every worker", members[0])
        os.kill(members[0], signal.SIGHUP)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Serve akar-gate.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    return parser


def main() -> None:
    parser = build_parser()
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
        bound_allocator()
        uvicorn.run(create_app(settings), http=HTTP_PROTOCOL, **common)
    else:
        directory = Path(tempfile.mkdtemp(prefix="akar-workers-"))
        os.environ[GROUP_DIR_VARIABLE] = str(directory)  # the workers inherit it
        config = uvicorn.Config(
            "app.__main__:worker_app",
            factory=True,
            workers=args.workers,
            http=HTTP_PROTOCOL,
            **common,
        )
        try:
            supervisor = Supervisor(config, sockets=[config.bind_socket()])
            supervisor.group = WorkerGroup(directory)
            supervisor.run()
        finally:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
