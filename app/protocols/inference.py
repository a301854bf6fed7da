"""The one model served over the Open Inference Protocol: its tensors, read and written.

Model "akar-gate": input `title` (BYTES, shape [n]) and/or `listing` (BYTES, shape [n], each a
JSON listing as /v1 takes it; a `title` input overrides the listings' titles); outputs
`decision`, `cluster`, `origin` (BYTES) and `cluster_confidence`, `import_probability` (FP64),
from the same Screener as /v1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from app.errors import BadInferenceRequestError, ModelNotFoundError
from app.schemas import MAX_BATCH, Listing
from app.schemas_v2 import (
    InferenceRequest,
    MetadataTensor,
    RequestInput,
    RequestOutput,
    ResponseOutput,
)
from app.screening.columns import ScreenColumns

MODEL_NAME = "akar-gate"
PLATFORM = "sklearn"
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


def known_model(model_name: str) -> str:
    if model_name != MODEL_NAME:
        raise ModelNotFoundError(f"model '{model_name}' is not served here; try '{MODEL_NAME}'")
    return model_name


def validated_request(document: Any) -> InferenceRequest:
    """A decoded request (JSON, or built from a protobuf message) as the protocol's model; a
    BadInferenceRequestError saying what is wrong if it is not one."""
    try:
        return InferenceRequest.model_validate(document)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"]
            for e in exc.errors()
        )
        raise BadInferenceRequestError(f"invalid inference request: {where}") from exc


def listings_from(inputs: Sequence[RequestInput]) -> list[Listing]:
    """Listings from the `title` and/or `listing` inputs; BadInferenceRequestError says why not."""
    data: dict[str, list[Any]] = {}
    for tensor in inputs:
        name = tensor.name
        if name not in ("title", "listing"):
            raise BadInferenceRequestError(f"unknown input '{name}': expected 'title', 'listing'")
        if name in data:
            raise BadInferenceRequestError(f"input '{name}' is given twice")
        if tensor.datatype != "BYTES":
            raise BadInferenceRequestError(f"input '{name}' must be BYTES, not {tensor.datatype}")
        if tensor.data is None:
            raise BadInferenceRequestError(f"input '{name}' has no data")
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


def outputs_of(results: ScreenColumns) -> dict[str, ResponseOutput]:
    # Where the model failed (decision review, reason MODEL_ERROR) there is no cluster or
    # origin: "" and 0.0, since tensors hold no nulls.
    n = len(results)
    cluster, origin = results.cluster, results.origin
    columns: dict[str, list[Any]] = {
        "decision": results.decisions.tolist(),
        "cluster": cluster.labels.tolist() if cluster else [""] * n,
        "origin": origin.labels.tolist() if origin else [""] * n,
        "cluster_confidence": cluster.confidence.tolist() if cluster else [0.0] * n,
        "import_probability": origin.import_probability.tolist() if origin else [0.0] * n,
    }
    return {
        t.name: ResponseOutput(name=t.name, shape=[n], datatype=t.datatype, data=columns[t.name])
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
