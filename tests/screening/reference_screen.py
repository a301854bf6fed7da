"""Row-per-listing screening as it was before results became columns, kept to prove equivalence.

A verbatim copy of `Screener.screen` and `Policy.decide` (one pydantic `ScreenResult` per
listing, the policy asked once per listing), of `/v2`'s `outputs_of` and of the Spark job's
`result_row`, as they were before `ScreenColumns`; do not edit it. The model, the evidence
functions and the schemas are the service's own: only the building of the answer is frozen.
tests/screening/test_columns_equivalence.py checks that the columnar path answers exactly what
this does; bench/inprocess.py measures both side by side.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any

from app.protocols.inference import OUTPUTS
from app.schemas import ClusterResult, Listing, OriginResult, ScreenResult
from app.schemas_v2 import ResponseOutput
from app.screening.markers import title_markers
from app.screening.policy import Policy
from app.screening.screener import Screener, structured_origin_evidence

logger = logging.getLogger("akar_gate")


def decide(policy: Policy, p_protected: float, p_import: float) -> tuple[str, tuple[str, ...]]:
    """The enforce-mode verdict for one listing, before shadow mode is applied."""
    p_block = p_protected * p_import
    if p_block >= policy.thresholds.block:
        return "block", ("PROTECTED_CLUSTER_IMPORT",)
    if p_block <= policy.thresholds.allow:
        reasons = []
        if p_protected < 0.5:
            reasons.append("UNPROTECTED_CLUSTER")
        if p_import < 0.5:
            reasons.append("DOMESTIC_ORIGIN")
        return "allow", tuple(reasons) or ("LOW_BLOCK_PROBABILITY",)
    reasons = ["LOW_CONFIDENCE"]
    if 0.2 < p_protected < 0.8:
        reasons.append("UNCERTAIN_CLUSTER")
    if 0.2 < p_import < 0.8:
        reasons.append("UNCERTAIN_ORIGIN")
    return "review", tuple(reasons)


@functools.cache
def _protected_columns(labels: tuple[str, ...], protected: tuple[str, ...]) -> list[int]:
    # Computed once, as the Screener's constructor did.
    return [j for j, label in enumerate(labels) if label in protected]


def _model_error(screener: Screener, listing: Listing) -> ScreenResult:
    decision, shadow, reasons = "review", None, ["MODEL_ERROR"]
    if screener.policy.mode == "shadow":
        decision, shadow, reasons = "allow", "review", ["SHADOW_MODE", "MODEL_ERROR"]
    return ScreenResult(
        listing_id=listing.listing_id,
        decision=decision,
        shadow_decision=shadow,
        cluster=None,
        origin=None,
        reasons=reasons,
        model_version=screener.loaded.version,
        policy_version=screener.policy.version,
    )


def screen(screener: Screener, listings: Sequence[Listing]) -> list[ScreenResult]:
    model = screener.loaded.model
    policy = screener.policy
    try:
        preds = model.predict(listings)
    except Exception:
        # Fail safe, never open: an internal error sends the listings to people.
        logger.exception("model error on %d listing(s); answering review", len(listings))
        return [_model_error(screener, listing) for listing in listings]
    labels = model.cluster_labels
    protected = _protected_columns(tuple(labels), policy.protected_clusters)
    # Python floats from here: per-listing work on numpy scalars costs more than it does.
    cluster_rows: list[list[float]] = preds.cluster_proba.tolist()
    import_proba: list[float] = preds.import_proba.tolist()
    columns = range(len(labels))
    results = []
    for i, listing in enumerate(listings):
        row = cluster_rows[i]
        scores = {label: round(p, 6) for label, p in zip(labels, row, strict=True)}
        best = max(columns, key=row.__getitem__)  # the first of equal maxima, as argmax
        p_protected = 0.0
        for j in protected:
            p_protected += row[j]
        structured = structured_origin_evidence(listing)
        markers = title_markers(listing.title)
        if structured or markers:
            # An explicit claim decides, from a field or a marketplace's marker in the
            # title: the text model is not asked to overrule it.
            p_import = 1.0
            evidence = structured + markers
        else:
            p_import = import_proba[i]
            evidence = [f"title: '{t}'" for t in preds.origin_terms[i]] if p_import >= 0.5 else []
        origin_label = "import" if p_import >= 0.5 else "domestic"
        verdict, verdict_reasons = decide(policy, p_protected, p_import)
        reasons = list(verdict_reasons)
        if structured and verdict == "block":
            reasons.append("STRUCTURED_ORIGIN_EVIDENCE")
        if markers and verdict == "block":
            reasons.append("MARKETPLACE_MARKER")
        shadow = None
        decision = verdict
        if policy.mode == "shadow":
            shadow, decision = verdict, "allow"
            reasons.insert(0, "SHADOW_MODE")
        results.append(
            ScreenResult(
                listing_id=listing.listing_id,
                decision=decision,
                shadow_decision=shadow,
                cluster=ClusterResult(
                    label=labels[best],
                    confidence=round(row[best], 6),
                    scores=scores,
                    evidence=preds.cluster_terms[i],
                ),
                origin=OriginResult(
                    label=origin_label,
                    confidence=round(max(p_import, 1 - p_import), 6),
                    import_probability=round(p_import, 6),
                    evidence=evidence,
                ),
                reasons=reasons,
                model_version=screener.loaded.version,
                policy_version=policy.version,
            )
        )
    return results


def outputs_of(results: Sequence[ScreenResult]) -> dict[str, ResponseOutput]:
    # A listing the model failed on (decision review, reason MODEL_ERROR) has no cluster or
    # origin: "" and 0.0, since tensors hold no nulls.
    columns: dict[str, list[Any]] = {
        "decision": [r.decision for r in results],
        "cluster": [r.cluster.label if r.cluster else "" for r in results],
        "origin": [r.origin.label if r.origin else "" for r in results],
        "cluster_confidence": [r.cluster.confidence if r.cluster else 0.0 for r in results],
        "import_probability": [r.origin.import_probability if r.origin else 0.0 for r in results],
    }
    return {
        t.name: ResponseOutput(
            name=t.name, shape=[len(results)], datatype=t.datatype, data=columns[t.name]
        )
        for t in OUTPUTS
    }


def result_row(result: ScreenResult) -> tuple[Any, ...]:
    """One output row of `training screen` and the Spark job."""
    cluster, origin = result.cluster, result.origin
    return (
        result.listing_id,
        result.decision,
        result.shadow_decision,
        cluster.label if cluster else None,
        cluster.confidence if cluster else None,
        origin.label if origin else None,
        origin.import_probability if origin else None,
        list(result.reasons),
        result.model_version,
        result.policy_version,
        None,
    )
