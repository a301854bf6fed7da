"""Soak: steady load on `python -m app --workers 2` for minutes; errors, latency, memory.

    .venv/bin/python -m bench.soak [--seconds 300] [--workers 2] [--concurrency 8]

Client threads (httpx, keep-alive) send single listings, and every tenth request a batch of
20, each with different real titles, at a steady pace for --seconds. Memory (RSS) of every
worker is read after a warm-up (the first tenth of the run, when caches fill) and at the end.
Prints a table and writes it, with the machine, to bench/results/soak.md. `make test` runs a
20-second version (tests/test_soak.py); the long run is this command.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):  # run as `python bench/soak.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RESULTS,
    Server,
    load_average,
    machine,
    markdown_table,
    real_titles,
    save_report,
)

BATCH_EVERY = 10
BATCH_SIZE = 20


@dataclass
class SoakResult:
    seconds: float
    requests: int = 0
    listings: int = 0
    errors: int = 0
    invalid: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    rss_start_mb: list[float] = field(default_factory=list)
    rss_end_mb: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=1000)[int(q * 1000) - 1]

    @property
    def rss_growth_mb(self) -> float:
        return max(e - s for s, e in zip(self.rss_start_mb, self.rss_end_mb, strict=True))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _valid(body: dict[str, object]) -> bool:
    return body.get("decision") in ("allow", "block", "review") and bool(body.get("reasons"))


def soak(titles: list[str], seconds: float, workers: int = 2, concurrency: int = 8) -> SoakResult:
    """Runs the server and the load; every response is checked, not only counted."""
    result = SoakResult(seconds=seconds)
    lock = threading.Lock()
    ticket = count()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(workers, _free_port(), Path(tmp) / "server.log")
        try:
            server.wait_ready()
            url = f"http://127.0.0.1:{server.port}"
            start = time.monotonic()
            warmed = start + seconds / 10
            stop = start + seconds

            def client() -> None:
                with httpx.Client(base_url=url, timeout=10) as http:
                    while (now := time.monotonic()) < stop:
                        n = next(ticket)
                        payload: dict[str, Any]
                        if n % BATCH_EVERY == 0:
                            chosen = [titles[(n + i) % len(titles)] for i in range(BATCH_SIZE)]
                            payload = {"listings": [{"title": t} for t in chosen]}
                            path = "/v1/screen/batch"
                        else:
                            payload, path = {"title": titles[n % len(titles)]}, "/v1/screen"
                        t0 = time.perf_counter()
                        try:
                            r = http.post(path, json=payload)
                            ok = r.status_code == 200
                            body = r.json() if ok else {}
                        except httpx.HTTPError:
                            ok, body = False, {}
                        elapsed = (time.perf_counter() - t0) * 1000
                        answers = body.get("results", [body]) if ok else []
                        with lock:
                            result.requests += 1
                            result.listings += len(answers)
                            result.errors += not ok
                            result.invalid += sum(not _valid(a) for a in answers)
                            if now >= warmed:
                                result.latencies_ms.append(elapsed)

            threads = [threading.Thread(target=client) for _ in range(concurrency)]
            for t in threads:
                t.start()
            time.sleep(max(0.0, warmed - time.monotonic()))
            result.rss_start_mb = server.worker_rss_mb()
            for t in threads:
                t.join()
            result.rss_end_mb = server.worker_rss_mb()
        finally:
            server.stop()
    return result


def report(r: SoakResult, workers: int, concurrency: int) -> list[str]:
    rows = [
        [
            f"{r.seconds:.0f} s",
            str(workers),
            str(concurrency),
            f"{r.requests:,}",
            f"{r.listings:,}",
            str(r.errors),
            str(r.invalid),
            f"{r.requests / r.seconds:,.0f}",
            f"{r.percentile(0.5):.2f}",
            f"{r.percentile(0.99):.2f}",
            " / ".join(f"{x:.0f}" for x in r.rss_start_mb),
            " / ".join(f"{x:.0f}" for x in r.rss_end_mb),
        ]
    ]
    header = [
        "duration",
        "workers",
        "clients",
        "requests",
        "listings",
        "errors",
        "invalid",
        "req/s",
        "p50 ms",
        "p99 ms",
        "RSS after warm-up MB",
        "RSS at end MB",
    ]
    return markdown_table(header, rows)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    load_before = load_average()
    r = soak(real_titles(), args.seconds, args.workers, args.concurrency)
    lines = [
        "# Soak",
        "",
        f"Command: `python -m bench.soak --seconds {args.seconds:.0f} --workers "
        f"{args.workers} --concurrency {args.concurrency}` (one in {BATCH_EVERY} requests "
        f"a batch of {BATCH_SIZE}; latency and memory after a warm-up of a tenth of the "
        "run; client threads on the same machine).",
        "",
        *report(r, args.workers, args.concurrency),
        "",
        f"Largest RSS growth of a worker from warm-up to end: {r.rss_growth_mb:+.1f} MB.",
        "",
        *machine({"load average before / after": f"{load_before} / {load_average()}"}),
    ]
    print("\n".join(lines))
    save_report(RESULTS / "soak.md", [*lines, ""])


if __name__ == "__main__":
    main()
