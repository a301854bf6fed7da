"""The route layer's hook: what a request screened goes to the metrics and to its log line."""

from __future__ import annotations

from collections.abc import Sequence

from app.observability.access import current_request
from app.observability.metrics import Metrics
from app.schemas import Listing, ScreenResult


class ScreeningObserver:
    """Called by a route with the listings it screened and their results."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def __call__(
        self, listings: Sequence[Listing], results: Sequence[ScreenResult], *, batch: bool
    ) -> None:
        self.metrics.record_screening(results, batch=batch)
        record = current_request.get()
        if record is None or not results:
            return
        record.listings += len(results)
        record.decisions.update(r.decision for r in results)
        record.shadow_decisions.update(
            r.shadow_decision for r in results if r.shadow_decision is not None
        )
        record.model_version = results[0].model_version
        record.policy_version = results[0].policy_version
        # Kept for the log line, which shows them only when AKAR_LOG_LISTING_TEXT is true.
        record.titles.extend(listing.title for listing in listings)
