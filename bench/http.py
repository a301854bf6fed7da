"""HTTP benchmark with wrk: our server and Seldon MLServer, side by side, in the same run.

    .venv/bin/python -m bench.http [--workers 1 2] [--concurrency 1 8 32] [--duration 10]
                                   [--runs 3] [--mlserver-workers 1 2] [--no-mlserver]

Needs `wrk` (Debian: apt-get install -y wrk). First `python -m app --workers N`: each request
POSTs /v1/screen with a different real title from ../shared/data (bench/rotate.lua walks them,
each wrk thread from its own offset). Then, unless --no-mlserver, MLServer 1.7's sklearn
runtime serving the same artifact's two Pipelines (`bench/mlserver.py`; its own venv in
.bench-venvs/mlserver, created on first use), with `parallel_workers` N: each request POSTs a
V2 body `{"inputs": [{"name": "title", "shape": [1], "datatype": "BYTES", "data": [title]}]}`
to /v2/models/akar/infer, the same titles in the same order (rotate.lua with that path).
MLServer answers the cluster probabilities and P(import): our model work without the policy.
Before it is measured, its answers must equal our model's within 1e-6.

For each server and worker count: seconds from start to ready (/readyz, or MLServer's model
ready endpoint), RSS per worker after a warm-up, then req/s, p50, p99 and errors per
concurrency (medians over --runs runs of --duration seconds), and the ratio of our req/s at 2
workers and 32 connections to MLServer's best at 32 connections. wrk runs on the same 2 cores
as the servers. Prints the tables and writes them, with the machine, to bench/results/http.md.
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
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/http.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    REPO,
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
OURS = "akar-gate"
RATIO_TARGET = 5.0  # issue "Performance": our 2 workers at c=32 >= 5x MLServer


def wrk(
    url: str, bodies: Path, concurrency: int, duration: int, path: str = "/v1/screen"
) -> dict[str, float]:
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
        path,
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def measure(
    label: str,
    workers: int,
    run: Callable[[int], dict[str, float]],
    concurrencies: Sequence[int],
    n_runs: int,
) -> tuple[list[list[str]], dict[int, float]]:
    """Table rows for one server and worker count, and its median req/s per concurrency."""
    rows: list[list[str]] = []
    rps_by_c: dict[int, float] = {}
    for c in concurrencies:
        runs = [run(c) for _ in range(n_runs)]
        errors = sum(int(r[k]) for r in runs for k in ERROR_KINDS)
        rps = statistics.median(r["rps"] for r in runs)
        p50 = statistics.median(r["p50_us"] for r in runs) / 1000
        p99 = statistics.median(r["p99_us"] for r in runs) / 1000
        requests = sum(int(r["requests"]) for r in runs)
        rps_by_c[c] = rps
        rows.append(
            [
                label,
                str(workers),
                str(c),
                f"{rps:,.0f}",
                f"{p50:.2f}",
                f"{p99:.2f}",
                f"{errors} / {requests:,}",
            ]
        )
        print(" | ".join(rows[-1]), file=sys.stderr)
    return rows, rps_by_c


def ratio_line(ours: dict[int, dict[int, float]], theirs: dict[int, dict[int, float]]) -> str:
    our_rps = ours.get(2, {}).get(32)
    best = max(
        ((rps_by_c[32], w) for w, rps_by_c in theirs.items() if 32 in rps_by_c), default=None
    )
    if our_rps is None or best is None:
        return (
            "Ratio not computed: it needs akar-gate with 2 workers and MLServer, both at 32 "
            "connections."
        )
    ratio = our_rps / best[0]
    met = "met" if ratio >= RATIO_TARGET else "missed"
    return (
        f"akar-gate, 2 workers, 32 connections: {our_rps:,.0f} req/s = **{ratio:.2f}x** "
        f"MLServer's best at 32 connections ({best[0]:,.0f} req/s, parallel_workers "
        f"{best[1]}); target ≥ {RATIO_TARGET:g}x: {met}."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument(
        "--mlserver-workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="MLServer parallel_workers values (0: inference in its HTTP process)",
    )
    parser.add_argument("--no-mlserver", action="store_true", help="only our server")
    parser.add_argument("--out", type=Path, default=RESULTS / "http.md")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk)")

    titles = real_titles()
    tmp = Path(tempfile.mkdtemp(prefix="akar-bench-"))
    bodies = tmp / "bodies.jsonl"
    with bodies.open("w", encoding="utf-8") as f:
        for title in titles:
            f.write(json.dumps({"title": title}, ensure_ascii=False) + "\n")

    # MLServer is set up first, so that a failed install or model shows before the long runs.
    mlserver_error: str | None = None
    if not args.no_mlserver:
        from app.screening.store import load_model, resolve_model_dir
        from bench import mlserver as mls
        from bench.mlserver_model import ScreeningEstimator

        try:
            mls.ensure_venv()
            versions = (mls.installed_version(), mls.installed_version(package="mlserver-sklearn"))
            model_dir = resolve_model_dir(None, REPO / "models")
            estimator = ScreeningEstimator.from_model_dir(model_dir)
            our_model = load_model(model_dir).model
        except mls.MLServerError as exc:
            mlserver_error = str(exc)
        bodies_v2 = tmp / "bodies_v2.jsonl"
        with bodies_v2.open("w", encoding="utf-8") as f:
            for title in titles:
                f.write(mls.v2_body(title) + "\n")

    load_before = load_average()
    rows: list[list[str]] = []
    start_rows: list[list[str]] = []
    ours: dict[int, dict[int, float]] = {}
    for workers in args.workers:
        server = Server(workers, args.port, tmp / f"server-{workers}.log")
        try:
            ready = server.wait_ready()
            url = f"http://127.0.0.1:{args.port}"
            time.sleep(0.5 * workers)  # let the other workers finish loading
            wrk(url, bodies, 8, 2)  # warm-up, not reported
            rss = server.worker_rss_mb()
            start_rows.append(
                [OURS, str(workers), f"{ready:.2f} s", " / ".join(f"{r:.0f} MB" for r in rss)]
            )
            new_rows, ours[workers] = measure(
                OURS,
                workers,
                partial(wrk, url, bodies, duration=args.duration),
                args.concurrency,
                args.runs,
            )
            rows += new_rows
        finally:
            server.stop()

    theirs: dict[int, dict[int, float]] = {}
    mlserver_label = "MLServer"
    if not args.no_mlserver and mlserver_error is None:
        mlserver_label = f"MLServer {versions[0]} sklearn"
        path = mls.infer_path()
        check_titles = titles[:20] + ["Kemeja Batik Pria Lengan Panjang", "kéripik ✓ 1mp0rt"]
        for workers in args.mlserver_workers:
            log = tmp / f"mlserver-{workers}.log"
            server_v2 = mls.MLServer(
                tmp / f"mlserver-{workers}", estimator, workers=workers, log=log
            )
            try:
                ready = server_v2.wait_ready()
                worst = server_v2.check(our_model, check_titles)
                print(
                    f"MLServer (parallel_workers {workers}) answers as our model on "
                    f"{len(check_titles)} titles (largest difference {worst:.2g})",
                    file=sys.stderr,
                )
                url = server_v2.url
                wrk(url, bodies_v2, 8, 2, path)  # warm-up, not reported
                main_rss, workers_rss = server_v2.rss_mb()
                start_rows.append(
                    [
                        mlserver_label,
                        str(workers),
                        f"{ready:.2f} s",
                        " / ".join(f"{r:.0f} MB" for r in workers_rss)
                        + ("; " if workers_rss else "")
                        + f"HTTP process {main_rss:.0f} MB",
                    ]
                )
                new_rows, theirs[workers] = measure(
                    mlserver_label,
                    workers,
                    partial(wrk, url, bodies_v2, duration=args.duration, path=path),
                    args.concurrency,
                    args.runs,
                )
                rows += new_rows
            except mls.MLServerError as exc:
                mlserver_error = f"parallel_workers {workers}: {exc}"
                break
            finally:
                server_v2.stop()

    table = markdown_table(
        ["server", "workers", "connections", "req/s", "p50 ms", "p99 ms", "errors / requests"],
        rows,
    )
    start_table = markdown_table(
        ["server", "workers", "start to ready", "RSS per worker"], start_rows
    )
    summary: list[str] = []
    if args.no_mlserver:
        summary = ["MLServer not run (--no-mlserver)."]
    elif mlserver_error is not None:
        summary = [f"MLServer not measured: {mlserver_error}"]
    else:
        summary = [ratio_line(ours, theirs)]
    load_after = load_average()
    command = "python -m bench.http " + " ".join(sys.argv[1:])
    extra = {"load average (1, 5, 15 min) before / after": f"{load_before} / {load_after}"}
    if not args.no_mlserver and mlserver_error is None:
        extra = {"MLServer": f"mlserver {versions[0]}, mlserver-sklearn {versions[1]}"} | extra
    text = [
        "# HTTP benchmark",
        "",
        f"Command: `{command.strip()}` ({args.runs} runs of {args.duration:g} s per row, "
        "medians; errors summed; wrk on the same machine; every request a different real "
        "title, the same titles in the same order for both servers).",
        "",
        f"- {OURS}: `python -m app --workers N`, POST /v1/screen (model and policy).",
        f"- {mlserver_label}: `mlserver start` with `parallel_workers` N (N inference processes "
        "behind one HTTP process), its sklearn runtime serving our artifact's two Pipelines "
        "(`bench/mlserver_model.py`), POST /v2/models/akar/infer with one title as V2 BYTES; "
        "answers the cluster probabilities and P(import) (`predict_proba`), no policy; checked "
        "equal to our model within 1e-6 before it is measured.",
        "",
        *table,
        "",
        *summary,
        "",
        *start_table,
        "",
        *machine(extra),
        "",
    ]
    print("\n".join(table + [""] + summary + [""] + start_table))
    shutil.rmtree(tmp)
    save_report(args.out, text)
    if mlserver_error is not None:
        sys.exit(f"error: MLServer: {mlserver_error}")


if __name__ == "__main__":
    main()
