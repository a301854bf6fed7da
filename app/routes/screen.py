"""Screening endpoints: one listing, or a batch screened in one vectorised pass."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.deps import ScreenerDep
from app.schemas import BatchRequest, BatchResult, ErrorBody, Listing, ScreenResult

router = APIRouter(prefix="/v1", tags=["screening"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "Body over the size limit (1 MB by default)."},
    503: {"model": ErrorBody, "description": "No model loaded yet."},
}


@router.post("/screen", responses=_ERRORS)
def screen(listing: Listing, screener: ScreenerDep) -> ScreenResult:
    """Screen one listing: its cluster, its origin, and allow, block or review."""
    return screener.screen([listing])[0]


@router.post("/screen/batch", responses=_ERRORS)
def screen_batch(batch: BatchRequest, screener: ScreenerDep) -> BatchResult:
    """Screen 1 to 1,000 listings; results come in the order of the request."""
    return BatchResult(results=screener.screen(batch.listings))
