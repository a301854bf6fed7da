"""Administration: reload model, policy and keys without a restart."""

from __future__ import annotations

import os

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from app.deps import StateDep, require_admin_key
from app.schemas import ErrorBody

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin_key)])


class ReloadResult(BaseModel):
    status: str
    model_version: str
    policy_version: str
    previous_model_version: str | None
    pid: int
    workers: dict[int, str] = Field(
        description="With several workers: what each now serves ('model policy'), by pid."
    )


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

    With several worker processes (`python -m app --workers N`) every worker loads the new
    model and policy beside its own first; all swap only if all could (else none does, and
    the answer names the workers that failed), and the answer comes once all have swapped.
    """
    previous = state.screener.model_version if state.screener else None
    screener = state.reload()
    return ReloadResult(
        status="reloaded",
        model_version=screener.model_version,
        policy_version=screener.policy.version,
        previous_model_version=previous,
        pid=os.getpid(),
        workers=state.group.members() if state.group else {os.getpid(): state.serving},
    )
