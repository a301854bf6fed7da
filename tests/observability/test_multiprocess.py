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


def _samples(text: str, name: str, **labels: str) -> dict[str, float]:
    """Per worker: the value of each sample with these labels plus a `pid`, by pid."""
    return {
        s.labels["pid"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and {k: v for k, v in s.labels.items() if k != "pid"} == labels
    }


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
            # One sample per worker (pid label), both serving tiny-1, both ready.
            info = {"model_version": "tiny-1", "policy_version": "akar-2021.1"}
            infos = _samples(text, "akar_model_info", **info, policy_mode="enforce")
            assert sorted(infos.values()) == [1, 1] and len(infos) == 2
            assert sorted(_samples(text, "akar_ready").values()) == [1, 1]
            assert _sample(text, "akar_http_requests_in_flight") == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert any(metrics_dir.glob("counter_*.db"))


# A worker that counts and then dies without a word (as kill -9 would leave it).
_WORKER = """
import os, sys
from pathlib import Path
from app.observability.metrics import Metrics
m = Metrics(multiprocess_dir=Path(sys.argv[1]))
m.requests.labels("POST", "/v1/screen", "200").inc(int(sys.argv[2]))
m.latency.labels("POST", "/v1/screen", "200").observe(0.003)
m.in_flight.inc()  # mid-request
m.record_model_load("tiny-1", "p1", "enforce")
os._exit(0)
"""


def _die_after_counting(metrics_dir: Path, requests: int) -> None:
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, "-c", _WORKER, str(metrics_dir), str(requests)], env=env, check=True
    )


def test_dead_workers_stop_counting_in_flight_and_their_totals_stay(tmp_path: Path) -> None:
    from app.observability.metrics import Metrics

    metrics_dir = tmp_path / "metrics"
    for n in (3, 4):
        _die_after_counting(metrics_dir, n)
    assert len(list(metrics_dir.glob("*_*.db"))) == 2 * 4  # 4 files per dead worker
    text = Metrics(multiprocess_dir=metrics_dir).render().decode()
    screen = {"method": "POST", "route": "/v1/screen", "status": "200"}
    assert _sample(text, "akar_http_requests_total", **screen) == 7
    assert _sample(text, "akar_http_request_duration_seconds_count", **screen) == 2
    assert _sample(text, "akar_model_loads_total") == 2
    # Nobody serves now: no live worker reports the gauge (the dead ones said 1 each).
    assert _sample(text, "akar_http_requests_in_flight") is None
    # Folded into one totals file per type: the folder does not grow per dead worker.
    assert sorted(p.name for p in metrics_dir.glob("*.db")) == [
        "counter_dead-workers.db",
        "histogram_dead-workers.db",
    ]
    _die_after_counting(metrics_dir, 5)
    text = Metrics(multiprocess_dir=metrics_dir).render().decode()
    assert _sample(text, "akar_http_requests_total", **screen) == 12
    assert len(list(metrics_dir.glob("*.db"))) == 2


def test_an_unwritable_metrics_folder_stops_the_server_before_it_listens(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    not_a_folder = tmp_path / "metrics"
    not_a_folder.write_text("a file")
    port = free_port()
    env = os.environ | {
        "AKAR_MODEL_DIR": str(tiny_model_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(not_a_folder),
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"PROMETHEUS_MULTIPROC_DIR={not_a_folder} is not a writable folder" in done.stderr
    assert "Traceback" not in done.stderr
