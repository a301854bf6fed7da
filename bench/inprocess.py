"""In-process benchmark: the compiled path against the plain scikit-learn pipeline, and
results as columns against one pydantic `ScreenResult` per listing, same run.

    .venv/bin/python -m bench.inprocess [--runs 5] [--cpu N]

Single-listing latency (p50, p99) of `Screener.screen([listing])` (model and policy) and of
`ScreeningModel.predict` alone, and batch throughput (batches of 1,000) of `Screener.screen`,
on one core (the process is pinned to it). Then the compiled path's answer built both ways:
`Screener.screen` (columns) and the frozen row-per-listing implementation
(tests/screening/reference_screen.py), alone and with the `/v1` JSON or the `/v2` tensors
made from it, on the same titles after the first part has seen them (the word cache warm for
both). Every call screens a different real title from ../shared/data. Each figure is the
median over `--runs` runs. Prints the tables and writes them, with the machine, to
bench/results/inprocess.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/inprocess.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from threadpoolctl import threadpool_limits

from app.protocols.inference import outputs_of
from app.protocols.rows import batch_json, result_json
from app.schemas import BatchResult, Listing
from app.screening.model import ScreeningModel
from app.screening.policy import load_policy
from app.screening.screener import Screener
from app.screening.store import LoadedModel, load_model, load_pipelines, resolve_model_dir
from bench.common import (
    REPO,
    RESULTS,
    load_average,
    machine,
    markdown_table,
    real_titles,
    save_report,
)
from tests.screening import reference_screen

BATCH = 1000
# What a call's time is read from: elapsed time, or with `--clock cpu` the CPU time of this
# thread (for a machine other work shares: it leaves out the time spent waiting for the core).
CLOCKS = {"wall": time.perf_counter_ns, "cpu": time.thread_time_ns}
CLOCK = {"ns": CLOCKS["wall"]}


def _latencies(call: Callable[[list[Listing]], object], listings: Sequence[Listing]) -> list[int]:
    out = []
    clock = CLOCK["ns"]
    for listing in listings:
        one = [listing]
        start = clock()
        call(one)
        out.append(clock() - start)
    return out


def _percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def _throughput(call: Callable[[list[Listing]], object], batches: list[list[Listing]]) -> float:
    start = CLOCK["ns"]()
    for batch in batches:
        call(batch)
    return sum(map(len, batches)) / ((CLOCK["ns"]() - start) / 1e9)


def _answers(screener: Screener) -> dict[str, dict[str, Callable[[list[Listing]], object]]]:
    """What is measured both ways: the answer alone, as /v1 JSON, as /v2 tensors."""

    return {
        "old": {
            "screen": lambda x: reference_screen.screen(screener, x),
            "v1 one": lambda x: reference_screen.screen(screener, x)[0].model_dump_json(),
            "v1 batch": lambda x: BatchResult(
                results=reference_screen.screen(screener, x)
            ).model_dump_json(),
            "v2": lambda x: reference_screen.outputs_of(reference_screen.screen(screener, x)),
        },
        "new": {
            "screen": screener.screen,
            "v1 one": lambda x: result_json(screener.screen(x)),
            "v1 batch": lambda x: batch_json(screener.screen(x)),
            "v2": lambda x: outputs_of(screener.screen(x)),
        },
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--single", type=int, default=2000, help="calls per run, fast path")
    parser.add_argument("--single-sklearn", type=int, default=300, help="calls per run")
    parser.add_argument("--batches", type=int, default=5, help="batches per run, fast path")
    parser.add_argument("--batches-sklearn", type=int, default=2, help="batches per run")
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    parser.add_argument(
        "--model", type=Path, default=None, help="model folder (default: models/DEFAULT's)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "inprocess.md")
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    CLOCK["ns"] = CLOCKS[args.clock]

    os.sched_setaffinity(0, {args.cpu})
    load_before = load_average()
    loaded = load_model(resolve_model_dir(args.model, REPO / "models"))
    policy = load_policy(None)
    if not loaded.model.compiled:
        sys.exit("the compiled path is not active for this model (see the log): nothing to compare")
    path = loaded.path
    slow_model = ScreeningModel.from_pipelines(load_pipelines(path), fast=False)
    fast = Screener(loaded, policy)
    slow = Screener(LoadedModel(slow_model, loaded.manifest, loaded.path), policy)

    titles = real_titles()
    per_run = args.single + args.batches * BATCH
    if len(titles) < args.runs * per_run:
        sys.exit(f"{len(titles)} distinct titles, {args.runs * per_run} needed: lower --runs")
    listings = [Listing(title=t) for t in titles[: args.runs * per_run]]

    # Warm caches and lazy imports on titles outside the measured ones.
    warm = [Listing(title=t) for t in titles[-200:]]
    for screener in (fast, slow):
        _latencies(screener.screen, warm)
        screener.screen(warm)

    answers = _answers(fast)
    results: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    gc.collect()
    with threadpool_limits(1):
        for run in range(args.runs):
            chunk = listings[run * per_run : (run + 1) * per_run]
            single, rest = chunk[: args.single], chunk[args.single :]
            batches = [rest[i : i + BATCH] for i in range(0, len(rest), BATCH)]
            for label, screener, n_single, n_batches in (
                ("sklearn", slow, args.single_sklearn, args.batches_sklearn),
                ("fast", fast, args.single, args.batches),
            ):
                lat = _latencies(screener.screen, single[:n_single])
                record(f"{label} screen p50", _percentile(lat, 0.50) / 1000)
                record(f"{label} screen p99", _percentile(lat, 0.99) / 1000)
                lat = _latencies(screener.loaded.model.predict, single[:n_single])
                record(f"{label} predict p50", _percentile(lat, 0.50) / 1000)
                record(f"{label} batch", _throughput(screener.screen, batches[:n_batches]))
            # The compiled path remembers the n-grams of words it has seen: also measure it
            # freshly loaded, on the titles scikit-learn saw, to show the cost of a cold cache.
            cold = Screener(load_model(path), policy)
            lat = _latencies(cold.screen, single[: args.single_sklearn])
            record("cold screen p50", _percentile(lat, 0.50) / 1000)
            record("cold screen p99", _percentile(lat, 0.99) / 1000)
            # Old and new in turn, the first one alternating between runs.
            for label in ("old", "new") if run % 2 == 0 else ("new", "old"):
                calls = answers[label]
                for what in ("screen", "v1 one"):
                    lat = _latencies(calls[what], single)
                    record(f"{label} {what} p50", _percentile(lat, 0.50) / 1000)
                for what in ("screen", "v1 batch", "v2"):
                    record(f"{label} {what} batch", _throughput(calls[what], batches))
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)

    med = {k: statistics.median(v) for k, v in results.items()}
    rows = []
    for name, key, unit, lower_is_better in (
        ("one listing, model + policy, p50", "screen p50", "µs", True),
        ("one listing, model + policy, p99", "screen p99", "µs", True),
        ("one listing, model only, p50", "predict p50", "µs", True),
        ("batch of 1,000, model + policy", "batch", "listings/s", False),
    ):
        s, f = med[f"sklearn {key}"], med[f"fast {key}"]
        ratio = s / f if lower_is_better else f / s
        rows.append([name, f"{s:,.0f} {unit}", f"{f:,.0f} {unit}", f"{ratio:.1f}x"])
    for name, key in (
        ("one listing, model + policy, p50, empty word cache", "screen p50"),
        ("one listing, model + policy, p99, empty word cache", "screen p99"),
    ):
        s, f = med[f"sklearn {key}"], med[f"cold {key}"]
        rows.append([name, f"{s:,.0f} µs", f"{f:,.0f} µs", f"{s / f:.1f}x"])
    table = markdown_table(["measure", "scikit-learn pipeline", "compiled path", "speed-up"], rows)
    rows = []
    for name, key, unit, lower_is_better in (
        ("one listing, Screener.screen, p50", "screen p50", "µs", True),
        ("one listing, screen + /v1 JSON, p50", "v1 one p50", "µs", True),
        ("batch of 1,000, Screener.screen", "screen batch", "listings/s", False),
        ("batch of 1,000, screen + /v1 JSON", "v1 batch batch", "listings/s", False),
        ("batch of 1,000, screen + /v2 tensors", "v2 batch", "listings/s", False),
    ):
        o, n = med[f"old {key}"], med[f"new {key}"]
        ratio = o / n if lower_is_better else n / o
        rows.append([name, f"{o:,.0f} {unit}", f"{n:,.0f} {unit}", f"{ratio:.2f}x"])
    columns_table = markdown_table(
        ["measure (compiled path)", "a ScreenResult per listing", "columns", "speed-up"], rows
    )
    load_after = load_average()
    command = "python -m bench.inprocess " + " ".join(sys.argv[1:])
    text = [
        "# In-process benchmark",
        "",
        f"Command: `{command.strip()}` (model `{loaded.version}`, {args.runs} runs, "
        f"medians; per run {args.single_sklearn} / {args.single} single calls and "
        f"{args.batches_sklearn} / {args.batches} batches of {BATCH} for scikit-learn / "
        "compiled; every call a different real title; times read from the "
        f"{'CPU time of the thread' if args.clock == 'cpu' else 'elapsed time'}).",
        "",
        *table,
        "",
        "Results as columns (`Screener.screen`) against one pydantic `ScreenResult` per "
        f"listing (tests/screening/reference_screen.py), same titles; per run {args.single} "
        f"single calls and {args.batches} batches of {BATCH} each way:",
        "",
        *columns_table,
        "",
        *machine(
            {
                "pinned to cpu": str(args.cpu),
                "load average (1, 5, 15 min) before / after": f"{load_before} / {load_after}",
            }
        ),
        "",
    ]
    print("\n".join(table + [""] + columns_table))
    save_report(args.out, text)


if __name__ == "__main__":
    main()
