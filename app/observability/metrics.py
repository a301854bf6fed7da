"""Prometheus metrics: what the service counts, and `/metrics`'s text.

With several worker processes (`python -m app --workers N`) each counts in its own memory
unless prometheus-client runs in multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` set before the
process starts (prometheus-client picks its value store at import), so every worker writes
its samples to files there and any worker answering `/metrics` sums them all. Without it, one
registry per app (tests build many apps; each counts on its own).
"""

from __future__ import annotations

import fcntl
import os
import re
from collections import Counter as Tally
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.mmap_dict import MmapedDict as _MmapedDict

from app.screening import drift
from app.screening.columns import ScreenColumns, reason_names

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "MetricsFolderError", "check_metrics_folder"]

# A single listing takes well under a millisecond, a batch of 1,000 a few hundred.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
# Drift: the PSI is over a worker's last DRIFT_WINDOW listings, recomputed every DRIFT_EVERY.
DRIFT_WINDOW, DRIFT_EVERY = 5000, 500


# prometheus-client's per-process files: `<type>_<pid>.db`, gauges `gauge_<mode>_<pid>.db`.
_PROCESS_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_(\d+)\.db")
# Totals: the collector reads the type from the name's first part and ignores the rest.
_FOLDED = "{kind}_dead-workers.db"
_LOCK = ".akar-metrics.lock"
# prometheus-client's file format, the one its collector reads (the module is untyped).
MmapedDict: Any = _MmapedDict


class MetricsFolderError(RuntimeError):
    """The multiprocess metrics folder cannot be created or written."""


def check_metrics_folder(directory: Path) -> None:
    """Fails at once, with one clear message, when `directory` is unusable for metrics."""
    probe = directory / f".akar-probe-{os.getpid()}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise MetricsFolderError(
            f"PROMETHEUS_MULTIPROC_DIR={directory} is not a writable folder: {exc.strerror}"
        ) from exc


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


@contextmanager
def _locked(directory: Path, kind: int) -> Iterator[None]:
    """A shared lock to read the folder, an exclusive one to change it (all workers)."""
    with (directory / _LOCK).open("a") as f:
        fcntl.flock(f, kind)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def fold_dead_workers(directory: Path) -> list[int]:
    """Marks every worker that died without saying so (killed, crashed) dead, and folds its
    counters and histograms into one totals file per type, so totals stay true, its live
    gauges (in flight, model info) stop counting, and the folder does not grow per dead
    worker. Returns the pids folded."""
    files: dict[int, list[tuple[str, Path]]] = {}
    for path in directory.glob("*.db"):
        m = _PROCESS_FILE.fullmatch(path.name)
        if m:
            files.setdefault(int(m[2]), []).append((m[1], path))
    dead = sorted(pid for pid in files if not _alive(pid))
    if not dead:
        return []
    with _locked(directory, fcntl.LOCK_EX):
        for pid in dead:
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
            for kind, path in files[pid]:
                if kind.startswith("gauge") or not path.exists():
                    continue  # live gauges: removed just above; another worker folded it
                totals = MmapedDict(str(directory / _FOLDED.format(kind=kind)))
                try:
                    for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(str(path)):
                        total, _ = totals.read_value(key)
                        totals.write_value(key, total + value, timestamp)
                finally:
                    totals.close()
                path.unlink()
    return dead


class Metrics:
    """The service's metrics; `render()` is the text `/metrics` answers."""

    def __init__(self, *, multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        if multiprocess_dir is not None:
            check_metrics_folder(multiprocess_dir)
        # In multiprocess mode samples go to the directory's files and `render` collects them
        # from there, so the metrics belong to no registry of their own.
        self.registry = CollectorRegistry() if multiprocess_dir is None else None
        registry = self.registry
        self.requests = Counter(
            "akar_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "akar_http_request_duration_seconds",
            "Time from request start to the last byte of the response.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "akar_http_requests_in_flight",
            "Requests being served now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.listings = Counter(
            "akar_listings_screened",
            "Listings screened, by the decision returned and the predicted cluster.",
            ["decision", "cluster"],
            registry=registry,
        )
        self.reasons = Counter(
            "akar_screening_reasons",
            "Reasons given, one per reason per listing (a listing usually has several).",
            ["decision", "cluster", "reason"],
            registry=registry,
        )
        self.shadow = Counter(
            "akar_shadow_decisions",
            "In shadow mode: what enforce mode would have decided (the answer was allow).",
            ["shadow_decision", "cluster"],
            registry=registry,
        )
        self.batch_size = Histogram(
            "akar_batch_size",
            "Listings per batch request (/v1/screen/batch and /v2 infer).",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.model_loads = Counter(
            "akar_model_loads", "Model and policy loads that succeeded.", registry=registry
        )
        self.model_load_failures = Counter(
            "akar_model_load_failures",
            "Model or policy loads that failed (checksum, version, self-check, bad policy).",
            registry=registry,
        )
        # Per worker (multiprocess: a `pid` label each), so a scrape shows every live worker's
        # model, and an alert can see workers that serve different versions.
        self.model_info = Gauge(
            "akar_model_info",
            "1 for the model and policy versions being served, 0 for ones served before.",
            ["model_version", "policy_version", "policy_mode"],
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.ready = Gauge(
            "akar_ready",
            "1 when this worker serves (model and policy loaded, not shutting down), else 0.",
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.challenger = Counter(
            "akar_challenger_decisions",
            "Listings scored by the challenger model too, by the serving model's decision, the "
            "challenger's and the serving model's cluster (shadow mode: the would-be decisions).",
            ["serving", "challenger", "cluster"],
            registry=registry,
        )
        # Drift: live traffic against the serving model's reference profile (validation).
        self.drift_histograms = {
            name: Histogram(
                f"akar_{name}",
                f"Per listing screened: {what} (10 equal bins; compare the reference profile).",
                buckets=drift.BINS[1:],
                registry=registry,
            )
            for name, what in (
                ("cluster_confidence", "the predicted cluster's probability"),
                ("import_probability", "P(import)"),
                ("unknown_word_share", "the share of the title's words the model never saw"),
            )
        }
        self.drift_psi = Gauge(
            "akar_drift_psi",
            f"Population stability index of this worker's last {DRIFT_WINDOW} listings against "
            "the serving model's reference profile, by feature (0.1: moderate, 0.25: large).",
            ["feature"],
            registry=registry,
            multiprocess_mode="liveall",
        )
        self._window: drift.Window | None = None
        self._window_reference: object = None
        self._since_psi = 0
        self._serving: tuple[str, str, str] | None = None

    def record_model_load(self, model_version: str, policy_version: str, policy_mode: str) -> None:
        self.model_loads.inc()
        self.set_serving(model_version, policy_version, policy_mode)

    def record_model_load_failure(self) -> None:
        self.model_load_failures.inc()

    def set_ready(self, ready: bool) -> None:
        self.ready.set(1 if ready else 0)

    def set_serving(self, model_version: str, policy_version: str, policy_mode: str) -> None:
        serving = (model_version, policy_version, policy_mode)
        if serving == self._serving:
            return
        if self._serving is not None:
            self.model_info.labels(*self._serving).set(0)
        self.model_info.labels(*serving).set(1)
        self._serving = serving

    def record_screening(self, results: ScreenColumns, *, batch: bool) -> None:
        """Counts one request's screening outcomes; `batch` requests also feed the histogram."""
        n = len(results)
        if batch:
            self.batch_size.observe(n)
        if not n:
            return
        clusters = results.cluster_labels(missing="none")  # "none": the model failed
        shadow = results.shadow_decisions
        # A batch holds a few distinct outcomes: each counter is increased once per outcome.
        outcomes = Tally(
            zip(
                results.decisions.tolist(),
                clusters,
                results.reasons.tolist(),
                shadow.tolist() if shadow is not None else [None] * n,
                strict=True,
            )
        )
        for (decision, cluster, flags, shadow_decision), count in outcomes.items():
            self.listings.labels(decision, cluster).inc(count)
            for reason in reason_names(flags):
                self.reasons.labels(decision, cluster, reason).inc(count)
            if shadow_decision is not None:
                self.shadow.labels(shadow_decision, cluster).inc(count)
        # A reload swaps the screener; the next answer shows what serves now.
        self.set_serving(results.model_version, results.policy_version, results.policy_mode)

    def record_challenger(self, serving: ScreenColumns, challenger: ScreenColumns) -> list[int]:
        """Counts each listing's pair of decisions; returns the positions where they differ."""
        mine, theirs = serving.enforce_decisions(), challenger.enforce_decisions()
        pairs = Tally(
            zip(mine.tolist(), theirs.tolist(), serving.cluster_labels("none"), strict=True)
        )
        for labels, count in pairs.items():
            self.challenger.labels(*labels).inc(count)
        differ: list[int] = np.flatnonzero(mine != theirs).tolist()
        return differ

    def record_drift(
        self,
        results: ScreenColumns,
        unknown_shares: Sequence[float],
        reference: dict[str, Any] | None,
        clusters: Sequence[str],
    ) -> None:
        """Feeds the live histograms and, with a reference, the window whose PSI is exported
        (recomputed every DRIFT_EVERY listings)."""
        if self._window is None or reference is not self._window_reference:  # another model
            self._window, self._window_reference = drift.Window(DRIFT_WINDOW, clusters), reference
            self._since_psi = 0
        window = self._window
        assert window is not None
        cluster, origin = results.cluster, results.origin
        if cluster is not None and origin is not None:  # else the model failed: no profile
            # Per listing: a histogram and the window take one value at a time.
            for label, confidence, p_import, unknown, decision in zip(
                cluster.labels.tolist(),
                cluster.confidence.tolist(),
                origin.import_probability.tolist(),
                unknown_shares,
                results.enforce_decisions().tolist(),
                strict=True,
            ):
                values = {
                    "cluster_confidence": confidence,
                    "import_probability": p_import,
                    "unknown_word_share": unknown,
                }
                for name, value in values.items():
                    self.drift_histograms[name].observe(value)
                window.add(**values, cluster=label, decision=decision)
                self._since_psi += 1
        if reference is not None and self._since_psi >= DRIFT_EVERY:
            self._since_psi = 0
            for feature, value in drift.compare(reference, window.profile()).items():
                self.drift_psi.labels(feature).set(value)

    def render(self) -> bytes:
        if self.registry is not None:
            return generate_latest(self.registry)
        directory = self.multiprocess_dir
        assert directory is not None
        fold_dead_workers(directory)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            registry, path=str(directory)
        )
        with _locked(directory, fcntl.LOCK_SH):  # no fold between listing and reading files
            return generate_latest(registry)

    def close(self) -> None:
        """At shutdown: this process's in-flight and info gauges stop counting."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(  # type: ignore[no-untyped-call]
                os.getpid(), str(self.multiprocess_dir)
            )
