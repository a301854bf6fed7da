"""Shared by the benchmarks: real titles from ../shared/data and a description of the machine."""

from __future__ import annotations

import os
import platform
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"


def real_titles(seed: int = 4) -> list[str]:
    """Every distinct non-empty title of the configured real sources, shuffled reproducibly."""
    from training.data import SHARED_DATA, load_sources

    if not SHARED_DATA.is_dir():
        sys.exit(f"{SHARED_DATA} is missing: the benchmarks need the real titles")
    seen: dict[str, None] = {}
    for example in load_sources():
        title = " ".join(example.title.split())[:500]
        if title:
            seen.setdefault(title, None)
    titles = list(seen)
    random.Random(seed).shuffle(titles)
    return titles


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine(extra: dict[str, str] | None = None) -> list[str]:
    """Markdown bullet lines describing this machine and the library versions."""
    import numpy
    import scipy
    import sklearn

    lines = {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    } | (extra or {})
    return [f"- {k}: {v}" for k, v in lines.items()]


def save_report(path: Path, lines: list[str]) -> None:
    """Writes a benchmark's Markdown report (tables and machine) and says where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    print(f"written to {path}", file=sys.stderr)


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        out += [int(c) for c in task.read_text().split()]
    return out


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class NotReady(Exception):
    """A server process ended, or did not answer 200, before the timeout."""


def wait_for_ok(url: str, proc: subprocess.Popen[bytes], started: float, timeout: float) -> float:
    """Seconds from `started` (a perf_counter value) until GET `url` answers 200."""
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise NotReady(f"exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.02)
    raise NotReady(f"not ready in {timeout:.0f} s")


class Server:
    """`python -m app --workers N` in its own session, stopped through its process group."""

    def __init__(
        self, workers: int, port: int, log: Path, env: dict[str, str] | None = None
    ) -> None:
        """`env`: the server's environment (default: this one, AKAR_LOG_LEVEL=warning)."""
        self.workers, self.port = workers, port
        if env is None:
            env = os.environ | {"AKAR_LOG_LEVEL": "warning"}  # no access log line per request
        self._log = log.open("w")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--workers", str(workers), "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds from start until /readyz answers 200 (with N workers: N answers in a row
        is not guaranteed to hit every worker, so the workers' RSS is checked separately)."""
        url = f"http://127.0.0.1:{self.port}/readyz"
        try:
            return wait_for_ok(url, self.proc, self.started, timeout)
        except NotReady as exc:
            raise RuntimeError(f"server {exc}") from exc

    def worker_rss_mb(self) -> list[float]:
        pids = [self.proc.pid] if self.workers == 1 else _children(self.proc.pid)
        # With N workers the children include multiprocessing helpers; the workers are the
        # ones that loaded the model, i.e. the large ones.
        sizes = sorted((_rss_mb(p) for p in pids), reverse=True)
        return sizes[: self.workers]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
