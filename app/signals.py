"""Process signals: SIGHUP reloads (every worker of a group, through app/workers.py), SIGUSR1
carries a group's reload round to this worker, and SIGTERM drains (readiness off, then stop)."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import threading
from types import FrameType

from app.errors import AkarError
from app.state import ServiceState

logger = logging.getLogger("akar_gate")


def reload_on_sighup(state: ServiceState) -> None:
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


def drain_on_sigterm(state: ServiceState, seconds: float) -> None:
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


def stop_reloading_on_signals() -> None:
    """At shutdown: the loop's SIGHUP and SIGUSR1 handlers removed."""
    for sig in (signal.SIGHUP, signal.SIGUSR1):
        try:
            asyncio.get_running_loop().remove_signal_handler(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
