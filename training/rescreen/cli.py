"""Arguments of `python -m training rescreen` (also `python -m training.rescreen`)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from app.errors import AkarError
from training.rescreen.layout import CHUNK, RescreenError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="catalogue: Parquet or CSV, file or folder")
    parser.add_argument("--output", required=True, help="folder for the Parquet decisions")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument(
        "--master", default=None, help="e.g. local[2]; default: spark-submit's, else local[*]"
    )
    parser.add_argument("--model", type=Path, default=None, help="folder (default: models/DEFAULT)")
    parser.add_argument("--policy", type=Path, default=None, help="default: the app's policy")
    parser.add_argument(
        "--shadow-report",
        type=Path,
        default=None,
        help="JSON path, Markdown beside it (default: <output>-shadow-report.json if local)",
    )
    parser.add_argument("--chunk", type=int, default=CHUNK, help="listings per screening call")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")


def run(args: argparse.Namespace) -> int:
    # Imported here: the other training commands do not need PySpark.
    from pyspark.sql import SparkSession

    from training.rescreen import report
    from training.rescreen.java import ensure_java
    from training.rescreen.job import Job
    from training.rescreen.job import run as run_job

    ensure_java()
    # Classic, not Spark Connect: the job ships the model with the SparkContext.
    builder = SparkSession.builder.appName("akar-rescreen").config("spark.api.mode", "classic")
    if args.master:
        builder = builder.master(args.master)
        if args.master.startswith("local"):
            # Local workers run on this machine: the interpreter that has our dependencies.
            # PySpark reads only the variable (not spark.pyspark.python) to start them.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    existing = SparkSession.getActiveSession()
    spark = builder.getOrCreate()
    start = time.perf_counter()
    try:
        outcome = run_job(
            spark,
            Job(
                input=args.input,
                output=args.output,
                format=args.format,
                model_dir=args.model,
                policy=args.policy,
                shadow_report=args.shadow_report,
                chunk=args.chunk,
                overwrite=args.overwrite,
            ),
        )
    except (AkarError, RescreenError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if existing is None:  # a session we were handed is the caller's to stop
            spark.stop()
    print(report.markdown(outcome.report))
    if outcome.report_paths:
        print("shadow report: " + ", ".join(str(p) for p in outcome.report_paths))
    print(f"decisions: {args.output} ({time.perf_counter() - start:.0f}s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rescreen", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
