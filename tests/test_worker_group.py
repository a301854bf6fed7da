"""Two real workers: a reload reaches both, or neither (python -m app --workers 2)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, wait_ready

REPO = Path(__file__).resolve().parents[1]
ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture
def two_workers(tmp_path: Path, tiny_model_dir: Path) -> Iterator[tuple[str, Path, int]]:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: first\n")
    port = free_port()
    env = os.environ | {
        "AKAR_MODEL_DIR": str(tiny_model_dir),
        "AKAR_POLICY_PATH": str(policy),
        "AKAR_ADMIN_KEY_SHA256": json.dumps([hashlib.sha256(b"admin-secret").hexdigest()]),
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        _wait_for_workers(url, {"tiny-1 first"})  # both up and in the group
        yield url, policy, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_for_workers(url: str, serving: set[str], timeout: float = 60) -> dict[str, str]:
    """Polls /readyz until two workers each serve what `serving` holds."""
    deadline = time.monotonic() + timeout
    while True:
        workers = httpx.get(f"{url}/readyz", timeout=30).json().get("workers") or {}
        if len(workers) == 2 and set(workers.values()) == serving:
            return dict(workers)
        assert time.monotonic() < deadline, workers
        time.sleep(0.05)


def _screen(url: str) -> tuple[int, str | None]:
    """One request on a new connection (the kernel spreads them over the workers)."""
    with httpx.Client(base_url=url, timeout=30) as c:
        r = c.post("/v1/screen", json={"title": "kemeja batik"})
        body = r.json() if r.status_code == 200 else {}
        return r.status_code, body.get("policy_version")


def _policies(url: str, n: int = 40) -> set[str | None]:
    return {_screen(url)[1] for _ in range(n)}


def test_a_reload_reaches_every_worker_or_none(two_workers: tuple[str, Path, int]) -> None:
    url, policy, main_pid = two_workers
    statuses: list[int] = []
    stop = threading.Event()

    def load() -> None:  # requests in flight all along
        while not stop.is_set():
            statuses.append(_screen(url)[0])

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        policy.write_text("version: second\n")
        r = httpx.post(f"{url}/v1/admin/reload", headers=ADMIN, timeout=120)
        assert r.status_code == 200, r.text
        workers = r.json()["workers"]
        assert sorted(workers.values()) == ["tiny-1 second", "tiny-1 second"]
        assert _policies(url) == {"second"}  # no answer from the old policy once it returned

        policy.write_bytes(b"version: \xff\xfe\n")  # no worker can load this
        r = httpx.post(f"{url}/v1/admin/reload", headers=ADMIN, timeout=120)
        assert r.status_code == 500 and r.json()["code"] == "RELOAD_FAILED"
        assert "every worker still serves what it served" in r.json()["detail"]
        assert _policies(url) == {"second"}

        # SIGHUP to the main process: one worker coordinates, both swap.
        policy.write_text("version: third\n")
        os.kill(main_pid, signal.SIGHUP)
        assert _wait_for_workers(url, {"tiny-1 third"}).keys() == workers.keys()  # no restart
        assert _policies(url) == {"third"}
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert statuses and set(statuses) == {200}  # nothing failed while reloading
