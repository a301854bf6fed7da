"""Prometheus metrics: what the service counts, and `/metrics`'s text.

With several worker processes (`python -m app --workers N`) each counts in its own memory
unless prometheus-client runs in multiprocess mode: `PROMETHEUS_MULTIPROC_DIR` set before the
process starts (prometheus-client picks its value store at import), so every worker writes
its samples to files there and any worker answering `/metrics` sums them all. Without it, one
registry per app (tests build many apps; each counts on its own).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from app.schemas import ScreenResult

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

# A single listing takes about 2 ms, a batch of 1,000 about a second.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)


class Metrics:
    """The service's metrics; `render()` is the text `/metrics` answers."""

    def __init__(self, *, multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        if multiprocess_dir is not None:
            multiprocess_dir.mkdir(parents=True, exist_ok=True)
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
        self.model_info = Gauge(
            "akar_model_info",
            "1 for the model and policy versions being served, 0 for ones served before.",
            ["model_version", "policy_version", "policy_mode"],
            registry=registry,
            multiprocess_mode="livemax",
        )
        self._serving: tuple[str, str, str] | None = None

    def record_model_load(self, model_version: str, policy_version: str, policy_mode: str) -> None:
        self.model_loads.inc()
        self.set_serving(model_version, policy_version, policy_mode)

    def record_model_load_failure(self) -> None:
        self.model_load_failures.inc()

    def set_serving(self, model_version: str, policy_version: str, policy_mode: str) -> None:
        serving = (model_version, policy_version, policy_mode)
        if serving == self._serving:
            return
        if self._serving is not None:
            self.model_info.labels(*self._serving).set(0)
        self.model_info.labels(*serving).set(1)
        self._serving = serving

    def record_screening(self, results: Sequence[ScreenResult], *, batch: bool) -> None:
        """Counts one request's screening outcomes; `batch` requests also feed the histogram."""
        if batch:
            self.batch_size.observe(len(results))
        for r in results:
            cluster = r.cluster.label if r.cluster is not None else "none"  # model failed
            self.listings.labels(r.decision, cluster).inc()
            for reason in r.reasons:
                self.reasons.labels(r.decision, cluster, reason).inc()
            if r.shadow_decision is not None:
                self.shadow.labels(r.shadow_decision, cluster).inc()
        if results:
            # A reload swaps the screener; the next answer shows what serves now.
            first = results[0]
            mode = "enforce" if first.shadow_decision is None else "shadow"
            self.set_serving(first.model_version, first.policy_version, mode)

    def render(self) -> bytes:
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            registry, path=str(self.multiprocess_dir)
        )
        return generate_latest(registry)

    def close(self) -> None:
        """At shutdown: this process's in-flight and info gauges stop counting."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(  # type: ignore[no-untyped-call]
                os.getpid(), str(self.multiprocess_dir)
            )
