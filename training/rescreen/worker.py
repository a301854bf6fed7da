"""What runs on the executors: the screener, loaded once per Python worker, over pandas frames.

The driver verifies the model and policy, ships their files with the job (`SparkContext.addFile`)
and sends a `ShippedModel` naming them. Each Python worker loads them from its SparkFiles folder
with the service's own loaders (sha256, scikit-learn version, self-check), checks it got what
the driver verified, and keeps the `Screener` in a module-level holder: Spark reuses a Python
worker for the tasks that follow, so the model is unpickled once per worker, not per task.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from app.errors import ModelStoreError, PolicyError
from app.schemas import Listing
from app.screening.policy import Policy, load_policy
from app.screening.screener import Screener
from app.screening.store import load_model
from training.rescreen.layout import (
    CHUNK,
    INPUT_COLUMNS,
    OUTPUT_COLUMNS,
    invalid_row,
    result_rows,
    validate,
)


@dataclass(frozen=True, slots=True)
class ShippedModel:
    """What the driver verified, and the names its files were shipped under."""

    artifact: str  # file name of the artifact, beside manifest.json
    artifact_sha256: str
    policy_file: str
    policy: Policy


# One screener per (artifact, checksum, policy file) in this Python worker process.
_SCREENERS: dict[tuple[str, str, str], Screener] = {}


def executor_screener(shipped: ShippedModel, root: Path | None = None) -> Screener:
    """The screener for `shipped`, loaded from `root` (the SparkFiles folder) on first use."""
    if root is None:
        from pyspark import SparkFiles

        root = Path(SparkFiles.getRootDirectory())
    key = (str(root / shipped.artifact), shipped.artifact_sha256, str(root / shipped.policy_file))
    screener = _SCREENERS.get(key)
    if screener is None:
        loaded = load_model(root)
        if loaded.artifact_sha256 != shipped.artifact_sha256:
            raise ModelStoreError(
                f"the executor's model in {root} has sha256 {loaded.artifact_sha256}, "
                f"the driver verified {shipped.artifact_sha256}"
            )
        policy = load_policy(root / shipped.policy_file)
        if policy != shipped.policy:
            raise PolicyError(f"the executor's {shipped.policy_file} differs from the driver's")
        screener = _SCREENERS[key] = Screener(loaded, policy)
    return screener


def screen_frame(screener: Screener, frame: pd.DataFrame, chunk: int = CHUNK) -> pd.DataFrame:
    """OUTPUT_COLUMNS for each row of `frame` (INPUT_COLUMNS), in order; none is dropped."""
    columns = [frame[name].tolist() for name in INPUT_COLUMNS]
    out: list[tuple[object, ...] | None] = [None] * len(frame)
    listings: list[Listing] = []
    positions: list[int] = []
    policy = screener.policy
    for i, values in enumerate(zip(*columns, strict=True)):
        row = dict(zip(INPUT_COLUMNS, values, strict=True))
        checked = validate(row)
        if isinstance(checked, Listing):
            listings.append(checked)
            positions.append(i)
        else:
            out[i] = invalid_row(
                row["listing_id"],
                checked,
                mode=policy.mode,
                model_version=screener.model_version,
                policy_version=policy.version,
            )
    for start in range(0, len(listings), chunk):
        answers = result_rows(screener.screen(listings[start : start + chunk]))
        for i, answer in zip(positions[start : start + chunk], answers, strict=True):
            out[i] = answer
    return pd.DataFrame(out, columns=list(OUTPUT_COLUMNS))


def screen_partition(
    frames: Iterator[pd.DataFrame],
    *,
    shipped: ShippedModel,
    chunk: int = CHUNK,
    root: Path | None = None,
) -> Iterator[pd.DataFrame]:
    """The `mapInPandas` function: Arrow batches of one partition in, results out."""
    screener = executor_screener(shipped, root)
    for frame in frames:
        yield screen_frame(screener, frame, chunk)
