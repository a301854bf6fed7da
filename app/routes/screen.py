"""Screening endpoints: one listing, or a batch screened in one vectorised pass."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from app.deps import ObserverDep, ScreenerDep, require_api_key
from app.schemas import BatchRequest, BatchResult, ErrorBody, Listing, ScreenResult

router = APIRouter(prefix="/v1", tags=["screening"], dependencies=[Depends(require_api_key)])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "JSON nested too deeply."},
    401: {"model": ErrorBody, "description": "API keys are configured and none was sent."},
    403: {"model": ErrorBody, "description": "Unknown API key."},
    413: {"model": ErrorBody, "description": "Body over the size limit (1 MB by default)."},
    503: {"model": ErrorBody, "description": "No model loaded yet."},
}


@router.post("/screen", responses=_ERRORS)
def screen(listing: Listing, screener: ScreenerDep, observe: ObserverDep) -> ScreenResult:
    """Screen one listing: its cluster, its origin, and allow, block or review."""
    results = screener.screen([listing])
    observe([listing], results, batch=False)
    return results[0]


@router.post("/screen/batch", responses=_ERRORS)
def screen_batch(batch: BatchRequest, screener: ScreenerDep, observe: ObserverDep) -> BatchResult:
    """Screen 1 to 1,000 listings; results come in the order of the request."""
    results = screener.screen(batch.listings)
    observe(batch.listings, results, batch=True)
    return BatchResult(results=results)
