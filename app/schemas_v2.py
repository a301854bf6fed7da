"""Request and response models of the Open Inference Protocol (KServe v2), REST/JSON.

Shapes follow the protocol's specification (kserve/open-inference-protocol,
`inference_rest.md`): tensors are `{name, shape, datatype, data}` with row-major data,
`parameters` are string/number/boolean values, errors are `{"error": "..."}`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Datatype = Literal[
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
    "FP16", "FP32", "FP64", "BYTES",
]  # fmt: skip
Parameters = dict[str, str | int | float | bool]


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RequestInput(_Message):
    name: str
    shape: list[int] = Field(min_length=1)
    datatype: Datatype
    parameters: Parameters | None = None
    # Absent when the tensor travels in binary (`parameters.binary_data_size`).
    data: list[Any] | None = None


class RequestOutput(_Message):
    name: str
    parameters: Parameters | None = None


def _invalid_unicode(value: Any, where: str) -> str | None:
    """Where a string of the raw request is not valid Unicode (a lone surrogate, which JSON's
    \\u escapes can carry and UTF-8 cannot), or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where or "request"
        return None
    if isinstance(value, dict):
        items = list(value.items())
        for k, v in items:
            key = k if isinstance(k, str) else str(k)
            bad = _invalid_unicode(key, f"{where}.<key>") or _invalid_unicode(v, f"{where}.{key}")
            if bad is not None:
                return bad.encode("utf-8", "backslashreplace").decode("utf-8")
        return None
    if isinstance(value, list):
        for i, v in enumerate(value):
            bad = _invalid_unicode(v, f"{where}[{i}]")
            if bad is not None:
                return bad
    return None


class InferenceRequest(_Message):
    id: str | None = None
    parameters: Parameters | None = None
    inputs: list[RequestInput] = Field(min_length=1)
    outputs: list[RequestOutput] | None = None

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        # Every string that could be echoed (id, names, parameters, data) must be encodable:
        # a client's lone surrogate is a 400, never a 500 when the answer is written.
        bad = _invalid_unicode(data, "")
        if bad is not None:
            raise ValueError(f"{bad.lstrip('.')} is not valid Unicode (a lone surrogate)")
        return data

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "id": "42",
                    "inputs": [
                        {
                            "name": "title",
                            "shape": [2],
                            "datatype": "BYTES",
                            "data": ["Kemeja Batik Pria", "Coklat Import Turki 200gr"],
                        }
                    ],
                }
            ]
        },
    )


class ResponseOutput(BaseModel):
    name: str
    shape: list[int]
    datatype: Datatype
    parameters: Parameters | None = None
    # Absent when the output is sent in binary (`parameters.binary_data_size`).
    data: list[Any] | None = None


class InferenceResponse(BaseModel):
    model_name: str
    model_version: str | None = None
    id: str
    parameters: Parameters | None = None
    outputs: list[ResponseOutput]


class MetadataTensor(BaseModel):
    name: str
    datatype: Datatype
    shape: list[int]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str] | None = None
    platform: str
    inputs: list[MetadataTensor]
    outputs: list[MetadataTensor]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class ServerLive(BaseModel):
    live: bool


class ServerReady(BaseModel):
    ready: bool


class ModelReady(BaseModel):
    name: str
    ready: bool


class ProtocolError(BaseModel):
    error: str


def inline_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` resolved in place, for an OpenAPI request body
    written by hand (the OpenAPI document has no `#/$defs` to point at)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
