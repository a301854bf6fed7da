"""Prometheus metrics, in the text exposition format."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.deps import MetricsDep
from app.observability.metrics import CONTENT_TYPE_LATEST

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
def metrics(m: MetricsDep) -> Response:
    """Requests, latency, screening outcomes, batch sizes, model loads, in-flight requests."""
    return Response(m.render(), media_type=CONTENT_TYPE_LATEST)
