"""Helpers for tests that run the real server process."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Polls /readyz until 200; fails at once if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited during start-up"
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server not ready in {timeout} s")


def stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM, as an orchestrator stops the server (and so it writes its coverage data);
    SIGKILL if it is still there after `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def fuzz_examples(default: int) -> int:
    """Examples per fuzz test: `default` in the test run; `AKAR_FUZZ_EXAMPLES` for a long run
    (`make bench-fuzz`, bench/README.md "Long fuzz run")."""
    return int(os.environ.get("AKAR_FUZZ_EXAMPLES", default))
