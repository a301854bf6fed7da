"""Spark re-screening benchmark: rows per second per core in local mode, against in-process.

    .venv/bin/python -m bench.spark [--rows 1000000] [--master local[2]] [--inprocess-rows N]

Input: `--rows` listings (listing_id, title) made by repeating the distinct real titles of
../shared/data with new ids, written once as Parquet (4 files per core) into a temporary folder.
Spark: `training.rescreen.job.run` end to end (driver verifies the model, executors load it,
read, validate, screen, write Parquet partitioned by decision, shadow report), timed after the
SparkSession has started. In-process, afterwards, pinned to one core: the same listings
validated into `Listing` and screened by `Screener.screen` in chunks of 1,000; once with a
freshly loaded model over the distinct titles (every word new to its n-gram cache, as in a
catalogue the model has not seen) and once warm (as Spark's workers are here: titles repeat).
Prints a table and writes it, the machine and a projection to bench/results/spark.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/spark.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyarrow as pa
import pyarrow.parquet as pq
import pyspark
from pyspark.sql import SparkSession
from threadpoolctl import threadpool_limits

from app.schemas import Listing
from app.screening.policy import load_policy
from app.screening.screener import Screener
from app.screening.store import load_model, resolve_model_dir
from bench.common import (
    REPO,
    RESULTS,
    load_average,
    machine,
    markdown_table,
    real_titles,
    save_report,
)
from training.rescreen.java import ensure_java
from training.rescreen.job import Job, run

CHUNK = 1000
# The cluster the projection is for, and what it assumes of it.
CLUSTER_EXECUTORS, CLUSTER_CORES = 50, 4
CLUSTER_STARTUP_S = 60  # executors allocated and their Python workers started: assumed


def _cores(master: str) -> int:
    inside = master.removeprefix("local").strip("[]")
    return (os.cpu_count() or 1) if inside in ("", "*") else int(inside)


def _write_input(folder: Path, titles: list[str], rows: int, files: int) -> int:
    """Parquet files of `rows` listings; returns their total size in bytes."""
    per_file = -(-rows // files)
    for f in range(files):
        ids = range(f * per_file, min(rows, (f + 1) * per_file))
        table = pa.table(
            {
                "listing_id": [f"L{i:09d}" for i in ids],
                "title": [titles[i % len(titles)] for i in ids],
            }
        )
        pq.write_table(table, folder / f"part-{f:03d}.parquet")
    return sum(p.stat().st_size for p in folder.glob("*.parquet"))


def _java_version() -> str:
    found = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    return (found.stderr or found.stdout or "unknown").splitlines()[0]


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.parquet"))


def _inprocess(screener: Screener, titles: list[str], rows: int) -> float:
    """Listings per second: validate and screen, chunks of CHUNK, as a worker does."""
    start = time.perf_counter()
    for first in range(0, rows, CHUNK):
        listings = [
            Listing.model_validate({"listing_id": f"L{i:09d}", "title": titles[i % len(titles)]})
            for i in range(first, min(rows, first + CHUNK))
        ]
        screener.screen(listings)
    return rows / (time.perf_counter() - start)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--inprocess-rows", type=int, default=200_000, help="warm in-process run")
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)))
    parser.add_argument("--out", type=Path, default=RESULTS / "spark.md")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    cores = _cores(args.master)
    load_before = load_average()
    titles = real_titles()
    model_dir = resolve_model_dir(None, REPO / "models")
    policy = load_policy(None)

    with tempfile.TemporaryDirectory(prefix="akar-bench-spark-") as tmp:
        source, output = Path(tmp) / "listings", Path(tmp) / "decisions"
        source.mkdir()
        input_bytes = _write_input(source, titles, args.rows, files=4 * cores)
        os.environ["PYSPARK_PYTHON"] = sys.executable  # local workers: this interpreter
        ensure_java()  # the spark extra's Java when the machine has none
        spark = (
            SparkSession.builder.master(args.master)
            .appName("bench-rescreen")
            .config("spark.api.mode", "classic")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(2 * cores))
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        start = time.perf_counter()
        outcome = run(spark, Job(input=str(source), output=str(output)))
        spark_s = time.perf_counter() - start
        spark.stop()
        output_bytes = _folder_bytes(output)
    listings = outcome.report["listings"]
    assert listings == args.rows, f"{listings} rows written for {args.rows}"
    spark_rate = args.rows / spark_s

    # In-process, after Spark has stopped, on one pinned core.
    os.sched_setaffinity(0, {args.cpu})
    with threadpool_limits(1):
        start = time.perf_counter()
        loaded = load_model(model_dir)
        load_s = time.perf_counter() - start
        screener = Screener(loaded, policy)
        cold_rate = _inprocess(screener, titles, len(titles))
        warm_rows = min(args.inprocess_rows, args.rows)
        warm_rate = _inprocess(screener, titles, warm_rows)

    per_core = spark_rate / cores
    cluster_cores = CLUSTER_EXECUTORS * CLUSTER_CORES
    target = 100_000_000
    projected = CLUSTER_STARTUP_S + load_s + target / (per_core * cluster_cores)
    pessimistic = (
        CLUSTER_STARTUP_S + load_s + target / (per_core * cold_rate / warm_rate * cluster_cores)
    )
    table = markdown_table(
        ["path", "listings", "cores", "seconds", "listings/s", "listings/s per core"],
        [
            [
                f"Spark `{args.master}`, end to end",
                f"{args.rows:,}",
                str(cores),
                f"{spark_s:.1f}",
                f"{spark_rate:,.0f}",
                f"**{per_core:,.0f}**",
            ],
            [
                "in-process, warm n-gram cache",
                f"{warm_rows:,}",
                "1",
                f"{warm_rows / warm_rate:.1f}",
                f"{warm_rate:,.0f}",
                f"**{warm_rate:,.0f}**",
            ],
            [
                "in-process, fresh model, distinct titles",
                f"{len(titles):,}",
                "1",
                f"{len(titles) / cold_rate:.1f}",
                f"{cold_rate:,.0f}",
                f"{cold_rate:,.0f}",
            ],
        ],
    )
    command = "python -m bench.spark " + " ".join(sys.argv[1:])
    text = [
        "# Spark re-screening benchmark",
        "",
        f"Command: `{command.strip()}` (model `{loaded.version}`, policy `{policy.version}`; "
        f"input {args.rows:,} listings, listing_id and title, the {len(titles):,} distinct real "
        f"titles repeated, {4 * cores} Parquet files, {input_bytes / 1e6:.0f} MB; output "
        f"{output_bytes / 1e6:.0f} MB).",
        "",
        *table,
        "",
        f"Spark runs at {per_core / warm_rate:.0%} of the in-process rate per core. Its "
        "figure also holds what the in-process one does not: reading and writing Parquet, "
        "Arrow transfers between the JVM and the Python workers, pandas frames, the "
        "report's second pass over the output, the JVM's own threads on the same 2 cores, "
        f"and the driver's and each worker's model load (about {load_s:.1f} s each, once).",
        "",
        f"## Projection: 100M listings on {CLUSTER_EXECUTORS} executors x {CLUSTER_CORES} "
        f"cores ({cluster_cores} cores)",
        "",
        f"{CLUSTER_STARTUP_S} s start-up + {load_s:.1f} s model load + 100,000,000 / "
        f"({per_core:,.0f} x {cluster_cores}) = **{projected / 60:.1f} min**; "
        f"**{pessimistic / 60:.1f} min** if every title is as new to the n-gram cache as in the "
        f"fresh in-process run (rate x {cold_rate / warm_rate:.2f}).",
        "",
        "Assumptions:",
        "- a cluster core screens as fast as one core of this machine, one Python worker "
        "per core (Spark's default with `spark.executor.cores=4`), each loading the model "
        "once;",
        f"- the input is split into at least {cluster_cores} partitions of similar size (e.g. "
        f"{4 * cluster_cores}+ Parquet files or row groups), so every core works to the end;",
        f"- storage keeps up: 100M rows is about {input_bytes / args.rows * target / 1e9:.1f} GB "
        f"in and {output_bytes / args.rows * target / 1e9:.1f} GB out (titles only here; "
        f"descriptions add to reading, not to screening, which reads their first characters);",
        f"- executors start within {CLUSTER_STARTUP_S} s (not measured here);",
        "- titles like these: the job is CPU-bound in Python, so longer text costs "
        "proportionally more.",
        "",
        *machine(
            {
                "spark": pyspark.__version__,
                "java": _java_version(),
                "in-process pinned to cpu": str(args.cpu),
                "load average (1, 5, 15 min) before / after": f"{load_before} / {load_average()}",
            }
        ),
        "",
    ]
    print("\n".join(table))
    save_report(args.out, text)


if __name__ == "__main__":
    main()
