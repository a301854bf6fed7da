"""What is serving: the model's manifest and the active policy."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.deps import ScreenerDep, require_api_key
from app.schemas import ModelInfo
from app.screening.policy import Policy

router = APIRouter(prefix="/v1", tags=["metadata"], dependencies=[Depends(require_api_key)])


@router.get("/model")
def model_info(screener: ScreenerDep) -> ModelInfo:
    """The serving model: version, training data, scikit-learn version, validation metrics."""
    m = screener.loaded.manifest
    return ModelInfo(
        version=m.version,
        created_at=m.created_at,
        sklearn_version=m.sklearn_version,
        cluster_labels=m.cluster_labels,
        origin_labels=m.origin_labels,
        data_sources=m.data_sources,
        metrics=m.metrics,
        artifact_sha256=m.artifact_sha256,
    )


@router.get("/policy")
def policy(screener: ScreenerDep) -> Policy:
    """The active policy: protected clusters, thresholds and mode."""
    return screener.policy
