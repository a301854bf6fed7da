"""The `/v1` answer from screening columns: one JSON object per listing (`ScreenResult`).

The rows are plain dicts in the fields' order and are serialised by pydantic-core in one call,
so the bytes are those `ScreenResult.model_dump_json()` writes (the routes declare
`ScreenResult` and `BatchResult` as their response models, for the OpenAPI document) without
a pydantic model per listing. This is the one place a batch becomes rows: the building of
each listing's dicts is the per-listing work the JSON answer needs.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json

from app.screening.columns import ClusterColumns, OriginColumns, ScreenColumns


def _clusters(cluster: ClusterColumns) -> list[dict[str, Any]]:
    names = cluster.names
    return [
        {
            "label": label,
            "confidence": confidence,
            "scores": dict(zip(names, row, strict=True)),
            "evidence": e,
        }
        for label, confidence, row, e in zip(
            cluster.labels.tolist(),
            cluster.confidence.tolist(),
            cluster.scores.tolist(),
            cluster.evidence,
            strict=True,
        )
    ]


def _origins(origin: OriginColumns) -> list[dict[str, Any]]:
    return [
        {"label": label, "confidence": confidence, "import_probability": p, "evidence": e}
        for label, confidence, p, e in zip(
            origin.labels.tolist(),
            origin.confidence.tolist(),
            origin.import_probability.tolist(),
            origin.evidence,
            strict=True,
        )
    ]


def result_rows(columns: ScreenColumns) -> list[dict[str, Any]]:
    """Each listing's answer as `ScreenResult` serialises it (cluster and origin null where
    the model failed)."""
    n = len(columns)
    none: list[None] = [None] * n
    shadow = columns.shadow_decisions
    model_version, policy_version = columns.model_version, columns.policy_version
    return [
        {
            "listing_id": listing_id,
            "decision": decision,
            "shadow_decision": shadow_decision,
            "cluster": cluster,
            "origin": origin,
            "reasons": reasons,
            "model_version": model_version,
            "policy_version": policy_version,
        }
        for listing_id, decision, shadow_decision, cluster, origin, reasons in zip(
            columns.listing_ids,
            columns.decisions.tolist(),
            shadow.tolist() if shadow is not None else none,
            _clusters(columns.cluster) if columns.cluster is not None else none,
            _origins(columns.origin) if columns.origin is not None else none,
            columns.reason_lists(),
            strict=True,
        )
    ]


def result_json(columns: ScreenColumns) -> bytes:
    """The `/v1/screen` answer: the first (only) listing's row."""
    return to_json(result_rows(columns)[0])


def batch_json(columns: ScreenColumns) -> bytes:
    """The `/v1/screen/batch` answer (`BatchResult`)."""
    return to_json({"results": result_rows(columns)})
