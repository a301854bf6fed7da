"""HTTP benchmark with wrk: `python -m app --workers N` at several concurrencies.

    .venv/bin/python -m bench.http [--workers 1 2] [--concurrency 1 8 32] [--duration 10]
                                   [--runs 3]

Needs `wrk` (Debian: apt-get install -y wrk). Each request POSTs /v1/screen with a different
real title from ../shared/data (bench/rotate.lua walks them, each wrk thread from its own
offset). For each worker count: seconds from start to /readyz answering 200, RSS per worker
after load, then req/s, p50, p99 and errors per concurrency (medians over --runs runs of
--duration seconds). wrk runs on the same 2 cores as the server. Prints a table and writes it,
with the machine, to bench/results/http.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/http.py`
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

LUA = Path(__file__).resolve().parent / "rotate.lua"
# wrk's socket errors, and "status": answers outside 2xx/3xx.
ERROR_KINDS = ("connect", "read", "write", "status", "timeout")


def wrk(url: str, bodies: Path, concurrency: int, duration: int) -> dict[str, float]:
    threads = min(concurrency, 2)
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        url,
        "--",
        str(bodies),
        str(threads),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--out", type=Path, default=RESULTS / "http.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk)")

    tmp = Path(tempfile.mkdtemp(prefix="akar-bench-"))
    bodies = tmp / "bodies.jsonl"
    with bodies.open("w", encoding="utf-8") as f:
        for title in real_titles():
            f.write(json.dumps({"title": title}, ensure_ascii=False) + "\n")

    load_before = load_average()
    rows: list[list[str]] = []
    start_rows: list[list[str]] = []
    for workers in args.workers:
        server = Server(workers, args.port, tmp / f"server-{workers}.log")
        try:
            ready = server.wait_ready()
            url = f"http://127.0.0.1:{args.port}"
            time.sleep(0.5 * workers)  # let the other workers finish loading
            wrk(url, bodies, 8, 2)  # warm-up, not reported
            rss = server.worker_rss_mb()
            start_rows.append(
                [str(workers), f"{ready:.2f} s", " / ".join(f"{r:.0f} MB" for r in rss)]
            )
            for c in args.concurrency:
                runs = [wrk(url, bodies, c, args.duration) for _ in range(args.runs)]
                errors = sum(int(r[k]) for r in runs for k in ERROR_KINDS)
                rps = statistics.median(r["rps"] for r in runs)
                p50 = statistics.median(r["p50_us"] for r in runs) / 1000
                p99 = statistics.median(r["p99_us"] for r in runs) / 1000
                requests = sum(int(r["requests"]) for r in runs)
                rows.append(
                    [
                        str(workers),
                        str(c),
                        f"{rps:,.0f}",
                        f"{p50:.2f}",
                        f"{p99:.2f}",
                        f"{errors} / {requests:,}",
                    ]
                )
                print(" | ".join(rows[-1]), file=sys.stderr)
        finally:
            server.stop()

    table = markdown_table(
        ["workers", "connections", "req/s", "p50 ms", "p99 ms", "errors / requests"], rows
    )
    start_table = markdown_table(["workers", "start to ready", "RSS per worker"], start_rows)
    load_after = load_average()
    command = "python -m bench.http " + " ".join(sys.argv[1:])
    text = [
        "# HTTP benchmark",
        "",
        f"Command: `{command.strip()}` (`python -m app --workers N`, POST /v1/screen, every "
        f"request a different real title; {args.runs} runs of {args.duration:g} s per row, "
        "medians; errors summed; wrk on the same machine).",
        "",
        *table,
        "",
        *start_table,
        "",
        *machine({"load average (1, 5, 15 min) before / after": f"{load_before} / {load_after}"}),
        "",
    ]
    print("\n".join(table + [""] + start_table))
    shutil.rmtree(tmp)
    save_report(args.out, text)


if __name__ == "__main__":
    main()
