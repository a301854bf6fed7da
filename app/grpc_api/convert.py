"""Protobuf messages of the protocol to its models (`app.schemas_v2`) and back.

An input's elements come from its typed `contents` or, when the request has any, from its entry
in `raw_input_contents` (framed as the binary tensor data extension frames them). The answer
mirrors the request: raw outputs to a request that sent raw inputs (as tritonclient does and
expects), typed `contents` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.errors import BadInferenceRequestError
from app.grpc_api.proto import open_inference_pb2 as pb
from app.protocols.binary import decode_tensor, encode_tensor
from app.protocols.inference import validated_request
from app.schemas_v2 import InferenceRequest, InferenceResponse, MetadataTensor

# Which typed field of InferTensorContents holds a datatype's elements (FP16 has none).
CONTENTS_FIELD = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


def parameters_of(parameters: Mapping[str, pb.InferParameter]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        choice = value.WhichOneof("parameter_choice")
        if choice is not None:
            out[key] = getattr(value, choice)
    return out


def _parameter(value: Any) -> pb.InferParameter:
    if isinstance(value, bool):
        return pb.InferParameter(bool_param=value)
    if isinstance(value, int):
        return pb.InferParameter(int64_param=value)
    if isinstance(value, float):
        return pb.InferParameter(double_param=value)
    return pb.InferParameter(string_param=str(value))


def _contents(tensor: pb.ModelInferRequest.InferInputTensor) -> list[Any] | None:
    if not tensor.HasField("contents"):
        return None
    field = CONTENTS_FIELD.get(tensor.datatype)
    if field is None:  # the model refuses it by datatype; say so, not "no data"
        return []
    values = list(getattr(tensor.contents, field))
    if tensor.datatype != "BYTES":
        return values
    try:
        return [v.decode("utf-8") for v in values]
    except UnicodeDecodeError as exc:
        raise BadInferenceRequestError(
            f"input '{tensor.name}' has an element that is not UTF-8 text"
        ) from exc


def request_from(message: pb.ModelInferRequest) -> InferenceRequest:
    """The request as the protocol's model; BadInferenceRequestError says why it is not one."""
    raw = message.raw_input_contents
    if raw and len(raw) != len(message.inputs):
        raise BadInferenceRequestError(
            f"raw_input_contents has {len(raw)} entries for {len(message.inputs)} inputs"
        )
    inputs: list[dict[str, Any]] = []
    for k, tensor in enumerate(message.inputs):
        data: list[Any] | None
        if raw:
            if tensor.HasField("contents"):
                raise BadInferenceRequestError(
                    f"input '{tensor.name}' has contents beside raw_input_contents"
                )
            if tensor.datatype not in CONTENTS_FIELD and tensor.datatype != "FP16":
                data = []  # an unknown datatype: refused by validation below, by name
            else:
                data = decode_tensor(tensor.name, tensor.datatype, list(tensor.shape), raw[k])
        else:
            data = _contents(tensor)
        inputs.append(
            {
                "name": tensor.name,
                "datatype": tensor.datatype,
                "shape": list(tensor.shape),
                "parameters": parameters_of(tensor.parameters) or None,
                "data": data,
            }
        )
    document: dict[str, Any] = {"inputs": inputs}
    if message.id:
        document["id"] = message.id
    if message.parameters:
        document["parameters"] = parameters_of(message.parameters)
    if message.outputs:
        document["outputs"] = [
            {"name": o.name, "parameters": parameters_of(o.parameters) or None}
            for o in message.outputs
        ]
    return validated_request(document)


def response_message(response: InferenceResponse, *, raw: bool) -> pb.ModelInferResponse:
    message = pb.ModelInferResponse(
        model_name=response.model_name,
        model_version=response.model_version or "",
        id=response.id,
    )
    for key, value in (response.parameters or {}).items():
        message.parameters[key].CopyFrom(_parameter(value))
    for output in response.outputs:
        tensor = message.outputs.add(name=output.name, datatype=output.datatype)
        tensor.shape.extend(output.shape)
        data = output.data or []
        if raw:
            message.raw_output_contents.append(encode_tensor(output.datatype, data))
        elif output.datatype == "BYTES":
            tensor.contents.bytes_contents.extend(str(x).encode("utf-8") for x in data)
        else:
            getattr(tensor.contents, CONTENTS_FIELD[output.datatype]).extend(data)
    return message


def metadata_message(
    name: str,
    versions: Sequence[str],
    platform: str,
    inputs: Sequence[MetadataTensor],
    outputs: Sequence[MetadataTensor],
) -> pb.ModelMetadataResponse:
    def tensors(ts: Sequence[MetadataTensor]) -> list[pb.ModelMetadataResponse.TensorMetadata]:
        return [
            pb.ModelMetadataResponse.TensorMetadata(name=t.name, datatype=t.datatype, shape=t.shape)
            for t in ts
        ]

    return pb.ModelMetadataResponse(
        name=name,
        versions=list(versions),
        platform=platform,
        inputs=tensors(inputs),
        outputs=tensors(outputs),
    )
