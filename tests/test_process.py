"""The real server process: signals (SIGHUP reload, SIGTERM drain and exit 0)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, wait_ready

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: first\n")
    port = free_port()
    env = os.environ | {"AKAR_POLICY_PATH": str(policy), "AKAR_SHUTDOWN_DRAIN_SECONDS": "1.5"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        yield url, proc, policy
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sighup_reloads_the_policy_without_a_restart(
    server: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    url, proc, policy = server
    assert httpx.get(f"{url}/v1/policy").json()["version"] == "first"
    policy.write_text("version: second\nmode: shadow\n")
    proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while httpx.get(f"{url}/v1/policy").json()["version"] != "second":
        assert time.monotonic() < deadline, "policy not reloaded"
        time.sleep(0.1)
    assert httpx.get(f"{url}/v1/policy").json()["mode"] == "shadow"
    assert proc.poll() is None


def test_a_failed_sighup_reload_keeps_serving_the_old_policy(
    server: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    url, proc, policy = server
    policy.write_text("version: broken\nmode: loud\n")
    proc.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert httpx.get(f"{url}/readyz").status_code == 200
    assert httpx.get(f"{url}/v1/policy").json()["version"] == "first"


def test_sigterm_turns_readiness_off_then_finishes_and_exits_0(
    server: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    url, proc, _ = server
    with httpx.Client(base_url=url) as client:
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # Draining: still serving, but not ready, so load balancers move away first.
        assert client.get("/readyz").status_code == 503
        assert client.post("/v1/screen", json={"title": "kopi gayo"}).status_code == 200
    assert proc.wait(timeout=30) == 0
