"""Several uvicorn workers, one view: multiprocess metrics through PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support import free_port, wait_ready

REPO = Path(__file__).resolve().parents[2]


def _sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return None


def test_two_workers_report_one_sum(tmp_path: Path, tiny_model_dir: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    port = free_port()
    env = os.environ | {
        "AKAR_MODEL_DIR": str(tiny_model_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
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
        for _ in range(20):
            # A new connection each time, so the kernel spreads them over the workers.
            with httpx.Client(base_url=url) as c:
                assert c.post("/v1/screen", json={"title": "kopi gayo"}).status_code == 200
        for _ in range(4):  # whichever worker answers the scrape, it shows the sum
            text = httpx.get(f"{url}/metrics").text
            screen = {"method": "POST", "route": "/v1/screen", "status": "200"}
            assert _sample(text, "akar_http_requests_total", **screen) == 20
            # Each worker loaded the model once: only a shared view shows 2.
            assert _sample(text, "akar_model_loads_total") == 2
            info = {"model_version": "tiny-1", "policy_version": "akar-2021.1"}
            assert _sample(text, "akar_model_info", **info, policy_mode="enforce") == 1
            assert _sample(text, "akar_http_requests_in_flight") == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert any(metrics_dir.glob("counter_*.db"))
