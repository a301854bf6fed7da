"""The binary tensor data extension (Triton's `binary_tensor_data`, also served by KServe).

A request whose `Inference-Header-Content-Length` is N has a JSON header in its first N bytes
and the inputs' raw data after it, in input order; an input in binary names its byte count in
`parameters.binary_data_size` and has no `data`. BYTES elements are each a 4-byte little-endian
length followed by that many bytes; other types are their little-endian values. An answer
puts an output in binary when the request asks (`binary_data` in the output's parameters, or
`binary_data_output` in the request's), with its own `Inference-Header-Content-Length`.

Every malformed frame is a BadInferenceRequestError (a 400 or INVALID_ARGUMENT), never more.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from app.errors import BadInferenceRequestError
from app.protocols.inference import validated_request
from app.schemas_v2 import InferenceRequest, InferenceResponse, RequestInput

EXTENSION = "binary_tensor_data"
HEADER_LENGTH = "Inference-Header-Content-Length"
BINARY_DATA_SIZE = "binary_data_size"

# Little-endian element types of the non-BYTES datatypes.
_DTYPES = {
    "BOOL": np.dtype("?"),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}
_LENGTH = struct.Struct("<I")


def parse_json_request(header: bytes) -> InferenceRequest:
    """The JSON part of a request as the protocol's model; a 400 saying what is wrong if not."""
    try:
        document = json.loads(header)
    except (ValueError, RecursionError) as exc:
        raise BadInferenceRequestError(f"invalid inference request: not JSON ({exc})") from exc
    return validated_request(document)


def read_request(body: bytes, header_length: str | None) -> InferenceRequest:
    """The request in a body: JSON alone, or, with `header_length` (the header's value), a JSON
    header followed by binary tensor data; inputs sent in binary come back with their `data`."""
    if header_length is None:
        request = parse_json_request(body)
        return with_binary_data(request, None)
    value = header_length.strip()
    if not value.isdigit() or not value.isascii():
        raise BadInferenceRequestError(
            f"{HEADER_LENGTH} must be a number of bytes, not {header_length!r}"
        )
    n = int(value)
    if n > len(body):
        raise BadInferenceRequestError(
            f"{HEADER_LENGTH} is {n} but the body has only {len(body)} bytes"
        )
    return with_binary_data(parse_json_request(body[:n]), body[n:])


def with_binary_data(request: InferenceRequest, binary: bytes | None) -> InferenceRequest:
    """`request` with each binary input's data decoded from `binary` (None: no binary part)."""
    inputs: list[RequestInput] = []
    offset = 0
    for tensor in request.inputs:
        size = (tensor.parameters or {}).get(BINARY_DATA_SIZE)
        if size is None:
            inputs.append(tensor)
            continue
        name = tensor.name
        if binary is None:
            raise BadInferenceRequestError(
                f"input '{name}' has {BINARY_DATA_SIZE} but the request has no {HEADER_LENGTH}"
            )
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise BadInferenceRequestError(
                f"input '{name}': {BINARY_DATA_SIZE} must be a number of bytes, not {size!r}"
            )
        if tensor.data is not None:
            raise BadInferenceRequestError(f"input '{name}' has both data and {BINARY_DATA_SIZE}")
        if size > len(binary) - offset:
            raise BadInferenceRequestError(
                f"input '{name}' has {BINARY_DATA_SIZE} {size} but only "
                f"{len(binary) - offset} bytes of binary data are left"
            )
        data = decode_tensor(name, tensor.datatype, tensor.shape, binary[offset : offset + size])
        offset += size
        inputs.append(tensor.model_copy(update={"data": data}))
    if binary is not None and offset != len(binary):
        raise BadInferenceRequestError(
            f"the body has {len(binary) - offset} bytes of binary data that no input claims"
        )
    return request.model_copy(update={"inputs": inputs})


def element_count(name: str, shape: Sequence[int]) -> int:
    if any(d < 0 for d in shape):
        raise BadInferenceRequestError(f"input '{name}' has a negative dimension in {list(shape)}")
    return math.prod(shape)


def decode_tensor(name: str, datatype: str, shape: Sequence[int], raw: bytes) -> list[Any]:
    """The elements of one tensor's raw data (row-major), checked against its shape."""
    count = element_count(name, shape)
    if datatype == "BYTES":
        elements: list[Any] = []
        for k, element in enumerate(split_bytes(name, raw, count)):
            try:
                elements.append(element.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise BadInferenceRequestError(
                    f"input '{name}' element {k} is not UTF-8 text"
                ) from exc
    else:
        dtype = _DTYPES[datatype]
        if len(raw) % dtype.itemsize:
            raise BadInferenceRequestError(
                f"input '{name}' has {len(raw)} bytes of data, not a multiple of {datatype}'s "
                f"{dtype.itemsize}"
            )
        elements = np.frombuffer(raw, dtype).tolist()
    if len(elements) != count:
        raise BadInferenceRequestError(
            f"input '{name}' has shape {list(shape)} ({count} elements) but its binary data "
            f"holds {len(elements)}"
        )
    return elements


def split_bytes(name: str, raw: bytes, at_most: int) -> list[bytes]:
    """BYTES elements, each a 4-byte little-endian length and its bytes. More than `at_most`
    elements is an error found as soon as it is seen (the shape bounds the work)."""
    elements: list[bytes] = []
    view = memoryview(raw)
    offset = 0
    while offset < len(raw):
        if len(elements) == at_most:
            raise BadInferenceRequestError(
                f"input '{name}' has more elements in its binary data than its shape's {at_most}"
            )
        if offset + 4 > len(raw):
            raise BadInferenceRequestError(
                f"input '{name}' binary data ends inside an element's 4-byte length"
            )
        (length,) = _LENGTH.unpack_from(view, offset)
        offset += 4
        if length > len(raw) - offset:
            raise BadInferenceRequestError(
                f"input '{name}' element {len(elements)} is {length} bytes long but only "
                f"{len(raw) - offset} bytes are left"
            )
        elements.append(bytes(view[offset : offset + length]))
        offset += length
    return elements


def encode_tensor(datatype: str, data: Sequence[Any]) -> bytes:
    """One tensor's raw data: BYTES as length-prefixed UTF-8, others as little-endian values."""
    if datatype == "BYTES":
        encoded = [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in data]
        return b"".join(_LENGTH.pack(len(x)) + x for x in encoded)
    return np.asarray(data, dtype=_DTYPES[datatype]).tobytes()


def _flag(parameters: dict[str, Any] | None, key: str, where: str) -> bool | None:
    value = (parameters or {}).get(key)
    if value is not None and not isinstance(value, bool):
        raise BadInferenceRequestError(f"{where}: '{key}' must be true or false, not {value!r}")
    return value


def binary_outputs(request: InferenceRequest, names: Collection[str]) -> frozenset[str]:
    """The outputs (of `names`) the request wants in binary: an output's own `binary_data`
    decides, else the request's `binary_data_output`, else none."""
    default = _flag(request.parameters, "binary_data_output", "request parameters") or False
    chosen = dict.fromkeys(names, default)
    for output in request.outputs or ():
        flag = _flag(output.parameters, "binary_data", f"output '{output.name}'")
        if flag is not None and output.name in chosen:
            chosen[output.name] = flag
    return frozenset(name for name, binary in chosen.items() if binary)


def write_response(
    response: InferenceResponse, binary: Collection[str]
) -> tuple[bytes, int | None]:
    """The answer's bytes and, when some output is in binary, the JSON header's length."""
    chunks: list[bytes] = []
    outputs = []
    for output in response.outputs:
        if output.name not in binary or output.data is None:
            outputs.append(output)
            continue
        raw = encode_tensor(output.datatype, output.data)
        chunks.append(raw)
        parameters = {**(output.parameters or {}), BINARY_DATA_SIZE: len(raw)}
        outputs.append(output.model_copy(update={"data": None, "parameters": parameters}))
    header = response.model_copy(update={"outputs": outputs}).model_dump_json(exclude_none=True)
    head = header.encode("utf-8")
    if not chunks:
        return head, None
    return head + b"".join(chunks), len(head)
