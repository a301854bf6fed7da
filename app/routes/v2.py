"""Open Inference Protocol (KServe v2) endpoints, beside our own API, for tooling that speaks it.

The model and its tensors are `app.protocols.inference`'s; the binary tensor data extension is
`app.protocols.binary`'s. A request body is JSON, with or without a Content-Type (as
tritonclient sends it), or a JSON header and binary tensors. Errors are `{"error": "..."}`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from app.deps import ObserverDep, ScreenerDep, StateDep, require_api_key
from app.protocols import binary
from app.protocols.inference import (
    INPUTS,
    MODEL_NAME,
    OUTPUTS,
    PLATFORM,
    known_model,
    listings_from,
    outputs_of,
    select,
)
from app.schemas_v2 import (
    InferenceRequest,
    InferenceResponse,
    ModelMetadata,
    ModelReady,
    ProtocolError,
    ServerLive,
    ServerMetadata,
    ServerReady,
    inline_json_schema,
)

EXTENSIONS = [binary.EXTENSION]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProtocolError} for code in (400, 401, 403, 404, 413, 503)
}

router = APIRouter(prefix="/v2", tags=["open inference protocol (v2)"], responses=_ERRORS)

ModelNameDep = Annotated[str, Depends(known_model)]


async def read_inference_request(request: Request) -> InferenceRequest:
    """The request body, decoded whatever its Content-Type: the binary extension's framing
    when Inference-Header-Content-Length is sent, JSON otherwise."""
    body = await request.body()
    return binary.read_request(body, request.headers.get(binary.HEADER_LENGTH))


InferenceRequestDep = Annotated[InferenceRequest, Depends(read_inference_request)]


@router.get("")
def server_metadata() -> ServerMetadata:
    """The server's name and version, and the protocol extensions it speaks."""
    return ServerMetadata(name=MODEL_NAME, version="1.0.0", extensions=EXTENSIONS)


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
        platform=PLATFORM,
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
    response_model=InferenceResponse,
    response_model_exclude_none=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_json_schema(InferenceRequest)}},
        }
    },
)
def infer(
    model_name: ModelNameDep,
    screener: ScreenerDep,  # before the body: not ready is a 503 whatever was sent
    request: InferenceRequestDep,
    observe: ObserverDep,
) -> Response:
    """Screen n listings given as BYTES tensors; the answers equal /v1/screen/batch's. JSON
    (any or no Content-Type), or binary tensors with Inference-Header-Content-Length."""
    in_binary = binary.binary_outputs(request, [t.name for t in OUTPUTS])
    listings = listings_from(request.inputs)
    results = screener.screen(listings)
    observe(listings, results, batch=True)
    answer = InferenceResponse(
        model_name=model_name,
        model_version=screener.model_version,
        id=request.id if request.id is not None else uuid.uuid4().hex,
        parameters={"policy_version": screener.policy.version, "policy_mode": screener.policy.mode},
        outputs=select(outputs_of(results), request.outputs),
    )
    body, header_length = binary.write_response(answer, in_binary)
    if header_length is None:
        return Response(body, media_type="application/json")
    return Response(
        body,
        media_type="application/octet-stream",
        headers={binary.HEADER_LENGTH: str(header_length)},
    )
