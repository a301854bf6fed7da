"""Dependencies for routes, as `Annotated` aliases.

All are `async def`: they only read app state, and FastAPI runs a plain `def` dependency in
its thread pool, a thread hop per dependency per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import Settings, get_settings
from app.observability.hooks import ScreeningObserver
from app.observability.metrics import Metrics
from app.screening.screener import Screener
from app.state import ServiceState

# Declared for the OpenAPI schema (the "Authorize" button in /docs); the check is KeyRing's.
_bearer = HTTPBearer(auto_error=False, description="An API key: 'Authorization: Bearer <key>'.")
_Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


async def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_screener(state: StateDep) -> Screener:
    return state.require()


async def require_api_key(request: Request, state: StateDep, _: _Credentials) -> None:
    """401 without a key, 403 with an unknown one; nothing when no keys are configured."""
    state.keys.check(request.headers.get("authorization"))


async def require_admin_key(request: Request, state: StateDep, _: _Credentials) -> None:
    """Admin scope: always needs a configured admin key."""
    state.keys.check(request.headers.get("authorization"), admin=True)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ScreenerDep = Annotated[Screener, Depends(get_screener)]


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_observer(
    metrics: Annotated[Metrics, Depends(get_metrics)], state: StateDep
) -> ScreeningObserver:
    return ScreeningObserver(metrics, state)


MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ObserverDep = Annotated[ScreeningObserver, Depends(get_observer)]
