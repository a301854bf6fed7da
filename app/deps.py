"""Dependencies for routes, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings, get_settings
from app.screening.screener import Screener
from app.state import ServiceState


def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


def get_screener(state: Annotated[ServiceState, Depends(get_state)]) -> Screener:
    return state.require()


SettingsDep = Annotated[Settings, Depends(get_settings)]
StateDep = Annotated[ServiceState, Depends(get_state)]
ScreenerDep = Annotated[Screener, Depends(get_screener)]
