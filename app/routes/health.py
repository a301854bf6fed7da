"""Liveness and readiness, for load balancers and Kubernetes probes."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from app.deps import StateDep
from app.schemas import Health, Readiness

router = APIRouter(tags=["health"])


# Every handler here is `async def`: answered on the event loop, with no hop to the thread pool,
# so a probe does not queue behind batches the pool is screening.
@router.get("/healthz")
async def healthz() -> Health:
    """The process is alive; says nothing about the model."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(state: StateDep) -> JSONResponse | Readiness:
    """200 once a model and policy are loaded and the model passed its self-check; else 503
    (also while shutting down, so load balancers stop sending first)."""
    reason, screener = state.ready_reason, state.screener
    if reason is not None or screener is None:
        body = Readiness(status="not_ready", reason=reason)
        return JSONResponse(body.model_dump(), status_code=503)
    return Readiness(
        status="ready",
        model_version=screener.model_version,
        policy_version=screener.policy.version,
        workers=state.group.members() if state.group else None,
    )


# HEAD, for probes and load balancers that use it: the same status, no body.
@router.head("/healthz", include_in_schema=False)
async def healthz_head() -> Response:
    return Response()


@router.head("/readyz", include_in_schema=False)
async def readyz_head(state: StateDep) -> Response:
    ready = state.ready_reason is None and state.screener is not None
    return Response(status_code=200 if ready else 503)
