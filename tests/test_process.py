"""The real server process: signals (SIGHUP reload, SIGTERM drain and exit 0)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, stop, wait_ready

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
        stop(proc)


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


def _raw(url: str, payload: bytes) -> bytes:
    """Sends raw bytes on one connection and reads what comes back until it closes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before it has read everything: its answer is sent
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_request_head_over_the_limit_is_431_and_the_server_serves_on(
    server: tuple[str, subprocess.Popen[bytes], Path],
) -> None:
    from app.serving import MAX_HEAD_BYTES

    url, _, _ = server
    huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (4 * MAX_HEAD_BYTES)
    head, _, body = _raw(url, huge).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert json.loads(body)["code"] == "HEADERS_TOO_LARGE"
    # Under /v2 in the protocol's shape, as every /v2 error.
    huge_v2 = huge.replace(b"/healthz", b"/v2/models/akar-gate/infer?x=1")
    head, _, body = _raw(url, huge_v2).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert json.loads(body) == {
        "error": f"request line and headers are larger than {MAX_HEAD_BYTES} bytes"
    }
    # Many small headers, complete: more than the limit and one read (256 KiB) together.
    many = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * (MAX_HEAD_BYTES // 2)
    assert _raw(url, many + b"\r\n").startswith(b"HTTP/1.1 431 ")
    # A head under the limit is served, and so is a large body (it is not head).
    ok = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n"
    assert _raw(url, ok + b"Connection: close\r\n\r\n").startswith(b"HTTP/1.1 200 ")
    r = httpx.post(f"{url}/v1/screen/batch", json={"listings": [{"title": "kemeja " * 60}] * 900})
    assert r.status_code == 200
