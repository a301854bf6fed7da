"""Open Inference Protocol (KServe v2) endpoints, beside our own API, for tooling that speaks it.

One model, "akar-gate": input `title` (BYTES, shape [n]) and/or `listing` (BYTES, shape [n],
each a JSON listing as /v1 takes it; a `title` input overrides the listings' titles);
outputs `decision`, `cluster`, `origin` (BYTES) and `cluster_confidence`,
`import_probability` (FP64), from the same Screener as /v1. Errors are `{"error": "..."}`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from app.deps import ObserverDep, ScreenerDep, StateDep, require_api_key
from app.errors import BadInferenceRequestError, ModelNotFoundError
from app.schemas import MAX_BATCH, Listing, ScreenResult
from app.schemas_v2 import (
    InferenceRequest,
    InferenceResponse,
    MetadataTensor,
    ModelMetadata,
    ModelReady,
    ProtocolError,
    RequestInput,
    RequestOutput,
    ResponseOutput,
    ServerLive,
    ServerMetadata,
    ServerReady,
)

MODEL_NAME = "akar-gate"
INPUTS = [
    MetadataTensor(name="title", datatype="BYTES", shape=[-1]),
    MetadataTensor(name="listing", datatype="BYTES", shape=[-1]),
]
OUTPUTS = [
    MetadataTensor(name="decision", datatype="BYTES", shape=[-1]),
    MetadataTensor(name="cluster", datatype="BYTES", shape=[-1]),
    MetadataTensor(name="origin", datatype="BYTES", shape=[-1]),
    MetadataTensor(name="cluster_confidence", datatype="FP64", shape=[-1]),
    MetadataTensor(name="import_probability", datatype="FP64", shape=[-1]),
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProtocolError} for code in (400, 401, 403, 404, 413, 503)
}

router = APIRouter(prefix="/v2", tags=["open inference protocol (v2)"], responses=_ERRORS)


def known_model(model_name: str) -> str:
    if model_name != MODEL_NAME:
        raise ModelNotFoundError(f"model '{model_name}' is not served here; try '{MODEL_NAME}'")
    return model_name


ModelNameDep = Annotated[str, Depends(known_model)]


@router.get("")
def server_metadata() -> ServerMetadata:
    """The server's name and version; no protocol extensions."""
    return ServerMetadata(name=MODEL_NAME, version="1.0.0", extensions=[])


@router.get("/health/live")
def server_live() -> ServerLive:
    """The process is alive (as /healthz)."""
    return ServerLive(live=True)


@router.get("/health/ready", response_model=ServerReady)
def server_ready(state: StateDep) -> JSONResponse | ServerReady:
    """200 when the model can serve (as /readyz); otherwise 503 with `ready: false`."""
    if state.ready_reason is not None:
        return JSONResponse(ServerReady(ready=False).model_dump(), status_code=503)
    return ServerReady(ready=True)


@router.get("/models/{model_name}", dependencies=[Depends(require_api_key)])
def model_metadata(model_name: ModelNameDep, state: StateDep) -> ModelMetadata:
    """The model's inputs and outputs, and the version serving (once one is loaded)."""
    screener = state.screener
    return ModelMetadata(
        name=model_name,
        versions=[screener.model_version] if screener is not None else None,
        platform="sklearn",
        inputs=INPUTS,
        outputs=OUTPUTS,
    )


@router.get("/models/{model_name}/ready", response_model=ModelReady)
def model_ready(model_name: ModelNameDep, state: StateDep) -> JSONResponse | ModelReady:
    """200 with `ready: true` once the model can serve; otherwise 503 with `ready: false`."""
    if state.ready_reason is not None:
        body = ModelReady(name=model_name, ready=False)
        return JSONResponse(body.model_dump(), status_code=503)
    return ModelReady(name=model_name, ready=True)


@router.post(
    "/models/{model_name}/infer",
    dependencies=[Depends(require_api_key)],
    response_model_exclude_none=True,
)
def infer(
    model_name: ModelNameDep,
    request: InferenceRequest,
    screener: ScreenerDep,
    observe: ObserverDep,
) -> InferenceResponse:
    """Screen n listings given as BYTES tensors; the answers equal /v1/screen/batch's."""
    listings = listings_from(request.inputs)
    results = screener.screen(listings)
    observe(listings, results, batch=True)
    return InferenceResponse(
        model_name=model_name,
        model_version=screener.model_version,
        id=request.id if request.id is not None else uuid.uuid4().hex,
        parameters={"policy_version": screener.policy.version, "policy_mode": screener.policy.mode},
        outputs=select(outputs_of(results), request.outputs),
    )


def listings_from(inputs: Sequence[RequestInput]) -> list[Listing]:
    """Listings from the `title` and/or `listing` inputs; BadInferenceRequestError says why not."""
    data: dict[str, list[str]] = {}
    for tensor in inputs:
        name = tensor.name
        if name not in ("title", "listing"):
            raise BadInferenceRequestError(f"unknown input '{name}': expected 'title', 'listing'")
        if name in data:
            raise BadInferenceRequestError(f"input '{name}' is given twice")
        if tensor.datatype != "BYTES":
            raise BadInferenceRequestError(f"input '{name}' must be BYTES, not {tensor.datatype}")
        if len(tensor.shape) != 1 or tensor.shape[0] != len(tensor.data):
            raise BadInferenceRequestError(
                f"input '{name}' has shape {tensor.shape} but {len(tensor.data)} elements; "
                "expected shape [n] with n elements"
            )
        if not all(isinstance(x, str) for x in tensor.data):
            raise BadInferenceRequestError(f"input '{name}' elements must be strings")
        data[name] = tensor.data
    titles, raw = data.get("title"), data.get("listing")
    if titles is not None and raw is not None and len(titles) != len(raw):
        raise BadInferenceRequestError("inputs 'title' and 'listing' must have the same shape")
    n = len(titles) if titles is not None else len(raw) if raw is not None else 0
    if not 1 <= n <= MAX_BATCH:
        raise BadInferenceRequestError(f"expected 1 to {MAX_BATCH} listings, got {n}")
    return [_listing(k, titles, raw) for k in range(n)]


def _listing(k: int, titles: list[str] | None, raw: list[str] | None) -> Listing:
    fields: dict[str, Any] = {}
    if raw is not None:
        try:
            fields = json.loads(raw[k])
        except (ValueError, RecursionError) as exc:
            raise BadInferenceRequestError(f"input 'listing' element {k} is not JSON") from exc
        if not isinstance(fields, dict):
            raise BadInferenceRequestError(f"input 'listing' element {k} is not a JSON object")
    if titles is not None:
        fields["title"] = titles[k]
    try:
        return Listing.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise BadInferenceRequestError(f"listing {k} is invalid: {problems}") from exc


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


def select(
    outputs: dict[str, ResponseOutput], requested: Sequence[RequestOutput] | None
) -> list[ResponseOutput]:
    """All outputs, or only the requested ones in the requested order."""
    if requested is None:
        return list(outputs.values())
    unknown = [o.name for o in requested if o.name not in outputs]
    if unknown:
        raise BadInferenceRequestError(
            f"unknown output {unknown[0]!r}: expected one of {', '.join(outputs)}"
        )
    return [outputs[o.name] for o in requested]
