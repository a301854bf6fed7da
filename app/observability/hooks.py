"""The route layer's hook: what a request screened goes to the metrics and to its log line.

Work the answer does not need (the challenger's scoring, the drift profile) is handed to the
access middleware, which runs it after the answer is sent (`RequestRecord.after`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from app.observability.access import RequestRecord, current_request
from app.observability.metrics import Metrics
from app.schemas import Listing
from app.screening.columns import ScreenColumns
from app.screening.screener import Screener
from app.state import ServiceState


class ScreeningObserver:
    """Called by a route with the listings it screened and their results."""

    def __init__(self, metrics: Metrics, state: ServiceState | None = None) -> None:
        self.metrics = metrics
        self.state = state

    def __call__(self, listings: Sequence[Listing], results: ScreenColumns, *, batch: bool) -> None:
        self.metrics.record_screening(results, batch=batch)
        record = current_request.get()
        screener = self.state.screener if self.state is not None else None
        if screener is not None and len(results):
            work = functools.partial(self.follow_up, screener, listings, results, record)
            if record is None:
                work()  # no HTTP request around it: now
            else:
                record.after.append(work)
        if record is None or not len(results):
            return
        record.listings += len(results)
        record.decisions.update(results.decisions.tolist())
        if results.shadow_decisions is not None:
            record.shadow_decisions.update(results.shadow_decisions.tolist())
        record.model_version = results.model_version
        record.policy_version = results.policy_version
        # Kept for the log line, which shows them only when AKAR_LOG_LISTING_TEXT is true.
        record.titles.extend(listing.title for listing in listings)

    def follow_up(
        self,
        screener: Screener,
        listings: Sequence[Listing],
        results: ScreenColumns,
        record: RequestRecord | None,
    ) -> None:
        """After the answer: the challenger scores the same listings; the drift profile."""
        if screener.challenger is not None:
            differ = self.metrics.record_challenger(results, screener.challenger.screen(listings))
            if record is not None:
                record.challenger_disagreements.extend(
                    listings[i].listing_id or f"#{i}" for i in differ
                )
        vocabulary = screener.vocabulary
        if vocabulary is not None:
            shares = [vocabulary.unknown_share(listing.title) for listing in listings]
            self.metrics.record_drift(
                results, shares, screener.reference_profile, screener.loaded.model.cluster_labels
            )
