"""The driver: verify model and policy, read the catalogue, screen it on the executors, write
the decisions partitioned by decision, and count what enforce mode would do."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import urlparse

from pyspark import SparkContext
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from app.screening.policy import DEFAULT_POLICY_PATH, load_policy
from app.screening.store import MANIFEST, load_model, resolve_model_dir
from training.data import REPO_ROOT
from training.rescreen import report
from training.rescreen.layout import CHUNK, INPUT_COLUMNS, OUTPUT_SCHEMA, RescreenError
from training.rescreen.worker import ShippedModel, screen_partition

Format = Literal["parquet", "csv"]


@dataclass(frozen=True, slots=True)
class Job:
    input: str
    output: str
    format: Format = "parquet"
    model_dir: Path | None = None  # None: the one named in models/DEFAULT
    policy: Path | None = None  # None: the service's default policy
    shadow_report: Path | None = None  # None: beside the output when it is a local path
    chunk: int = CHUNK
    overwrite: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    report: dict[str, Any]
    report_paths: tuple[Path, Path] | None


def _local_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path if parsed.scheme else uri)
    return None


def ship(sc: SparkContext, model_dir: Path, artifact: str, policy_path: Path) -> None:
    """Sends the model files and the policy with the job, unless spark-submit's `--files`
    already did (a file of the same name that differs fails the executor's sha256 check)."""
    shipped = {PurePosixPath(urlparse(f).path).name for f in sc.listFiles}
    for path in (model_dir / MANIFEST, model_dir / artifact, policy_path):
        if path.name not in shipped:
            sc.addFile(str(path.resolve()))


def _column(name: str, fields: dict[str, tuple[str, T.DataType]]) -> Column:
    """The input column `name` in the type the executors expect, or RescreenError."""
    if name not in fields:
        if name == "title":
            raise RescreenError("the input has no 'title' column")
        missing = {"price_amount": "double", "seller_cross_border": "boolean"}
        return F.lit(None).cast(missing.get(name, "string")).alias(name)
    original, kind = fields[name]
    col = F.col(f"`{original}`")
    if isinstance(kind, T.StringType):
        return col.alias(name)
    if name == "listing_id" and isinstance(kind, T.IntegralType):
        return col.cast("string").alias(name)
    if name == "price_amount" and isinstance(kind, T.NumericType):
        return col.cast("double").alias(name)
    if name == "seller_cross_border" and isinstance(kind, T.BooleanType):
        return col.alias(name)
    raise RescreenError(f"column '{original}' is {kind.simpleString()}: expected a string")


def read_listings(spark: SparkSession, path: str, fmt: Format) -> DataFrame:
    """The catalogue in INPUT_COLUMNS order. CSV is read as text (RFC 4180, header row) and
    converted on the executors, so a bad number is reported on its row, not read as null."""
    if fmt == "csv":
        raw = spark.read.options(header=True, multiLine=True, escape='"').csv(path)
    else:
        raw = spark.read.parquet(path)
    fields = {f.name.lower(): (f.name, f.dataType) for f in raw.schema.fields}
    return raw.select(*(_column(name, fields) for name in INPUT_COLUMNS))


def run(spark: SparkSession, job: Job) -> Outcome:
    sc = spark.sparkContext
    # Verified here first, so a bad artifact or policy fails before any task starts.
    model_dir = resolve_model_dir(job.model_dir, REPO_ROOT / "models")
    loaded = load_model(model_dir)
    policy_path = job.policy or DEFAULT_POLICY_PATH
    policy = load_policy(policy_path)
    # The file the driver loaded (the compiled form when there is one) and its checksum.
    artifact = loaded.artifact
    ship(sc, model_dir, artifact, policy_path)
    shipped = ShippedModel(artifact, loaded.artifact_sha256, policy_path.name, policy)

    listings = read_listings(spark, job.input, job.format)
    if listings.rdd.getNumPartitions() < sc.defaultParallelism:
        # One large file can be a single partition: spread it so every core screens.
        listings = listings.repartition(sc.defaultParallelism)
    results = listings.mapInPandas(
        partial(screen_partition, shipped=shipped, chunk=job.chunk), OUTPUT_SCHEMA
    )
    writer = results.write.mode("overwrite" if job.overwrite else "errorifexists")
    writer.partitionBy("decision").parquet(job.output)

    written = spark.read.parquet(job.output)
    verdict = F.coalesce("shadow_decision", "decision").alias("verdict")
    groups = written.groupBy("decision", verdict, "cluster", "reasons").count().collect()
    meta = {
        "model_version": loaded.version,
        "policy_version": policy.version,
        "policy_mode": policy.mode,
        "input": job.input,
        "output": job.output,
    }
    built = report.build(
        (
            (g["decision"], g["verdict"], g["cluster"], list(g["reasons"]), g["count"])
            for g in groups
        ),
        meta,
    )
    path = job.shadow_report
    local = _local_path(job.output)
    if path is None and local is not None:
        path = local.parent / f"{local.name}-shadow-report.json"
    return Outcome(built, report.write(built, path) if path is not None else None)
