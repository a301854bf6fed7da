"""Administration: reload model, policy and keys without a restart."""

from __future__ import annotations

import os

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.deps import StateDep, require_admin_key
from app.schemas import ErrorBody

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin_key)])


class ReloadResult(BaseModel):
    status: str
    model_version: str
    policy_version: str
    previous_model_version: str | None
    pid: int


@router.post(
    "/reload",
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        500: {"model": ErrorBody, "description": "Reload failed; the previous model serves on."},
    },
)
def reload(state: StateDep) -> ReloadResult:
    """Load model, policy and keys again (verified, self-checked), then swap atomically.

    With several worker processes this reloads the one that answers: send SIGHUP to each
    worker, or restart the pods, to reload them all.
    """
    previous = state.screener.model_version if state.screener else None
    screener = state.reload()
    return ReloadResult(
        status="reloaded",
        model_version=screener.model_version,
        policy_version=screener.policy.version,
        previous_model_version=previous,
        pid=os.getpid(),
    )
