"""Hypothesis over the protobuf fields of ModelInferRequest and over raw bytes, against the real
process: every answer is OK or a client error's code, never INTERNAL or UNKNOWN."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tritonclient.grpc import service_pb2 as pb

from tests.grpc_api.conftest import GrpcServer
from tests.support import fuzz_examples

MODEL = "akar-gate"
CLIENT_CODES = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND}
DATATYPES = ["BYTES", "FP64", "FP32", "FP16", "INT64", "INT32", "UINT8", "BOOL"]

# Protobuf strings are Unicode scalar values (no lone surrogates).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
INT64 = st.integers(-(2**63), 2**63 - 1)


@st.composite
def parameters(draw: st.DrawFn) -> dict[str, Any]:
    keys = st.one_of(st.sampled_from(["binary_data_size", "binary_data", "priority"]), TEXT)
    values = st.one_of(
        st.builds(lambda v: pb.InferParameter(bool_param=v), st.booleans()),
        st.builds(lambda v: pb.InferParameter(int64_param=v), INT64),
        st.builds(lambda v: pb.InferParameter(string_param=v), TEXT),
        st.builds(lambda v: pb.InferParameter(double_param=v), st.floats()),
        st.builds(lambda v: pb.InferParameter(uint64_param=v), st.integers(0, 2**64 - 1)),
    )
    return draw(st.dictionaries(keys, values, max_size=2))


def _framed(elements: list[bytes]) -> bytes:
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


ELEMENT = st.one_of(
    st.sampled_from([b"kemeja batik", b'{"title": "kopi"}', b"{}", b"", b"\xff"]),
    st.binary(max_size=12),
)


@st.composite
def infer_requests(draw: st.DrawFn) -> Any:
    request = pb.ModelInferRequest(
        model_name=draw(st.one_of(st.just(MODEL), TEXT)),
        model_version=draw(st.one_of(st.just(""), TEXT)),
        id=draw(TEXT),
    )
    for key, value in draw(parameters()).items():
        request.parameters[key].CopyFrom(value)
    raw = draw(st.booleans())
    for _ in range(draw(st.integers(0, 3))):
        tensor = request.inputs.add(
            name=draw(st.one_of(st.sampled_from(["title", "listing"]), TEXT)),
            datatype=draw(st.one_of(st.sampled_from(DATATYPES), TEXT)),
        )
        tensor.shape.extend(
            draw(st.lists(st.one_of(st.integers(-2, 4), INT64), min_size=0, max_size=2))
        )
        for key, value in draw(parameters()).items():
            tensor.parameters[key].CopyFrom(value)
        elements = draw(st.lists(ELEMENT, max_size=4))
        if raw:
            framed = _framed(elements)
            cut = draw(st.integers(0, len(framed)))
            request.raw_input_contents.append(draw(st.sampled_from([framed, framed[:cut]])))
        elif draw(st.booleans()):
            tensor.contents.bytes_contents.extend(elements)
            tensor.contents.fp64_contents.extend(draw(st.lists(st.floats(), max_size=2)))
    if raw and draw(st.booleans()):
        request.raw_input_contents.append(draw(st.binary(max_size=8)))  # one entry too many
    for name in draw(st.lists(st.one_of(st.sampled_from(["decision", "cluster"]), TEXT))):
        output = request.outputs.add(name=name)
        for key, value in draw(parameters()).items():
            output.parameters[key].CopyFrom(value)
    return request


@pytest.fixture(scope="module")
def channel(grpc_server: GrpcServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(grpc_server.target) as channel:
        yield channel


def _code(call: Any, payload: Any) -> tuple[grpc.StatusCode, str]:
    try:
        call(payload, timeout=30)
    except grpc.RpcError as exc:
        return exc.code(), exc.details()
    return grpc.StatusCode.OK, ""


@settings(max_examples=fuzz_examples(300), deadline=None)
@given(request=infer_requests())
def test_any_infer_request_gets_ok_or_a_client_error_never_internal(
    channel: grpc.Channel, request: Any
) -> None:
    call = channel.unary_unary(
        "/inference.GRPCInferenceService/ModelInfer",
        request_serializer=pb.ModelInferRequest.SerializeToString,
        response_deserializer=pb.ModelInferResponse.FromString,
    )
    code, details = _code(call, request)
    assert code in CLIENT_CODES, (code, details)


@settings(max_examples=fuzz_examples(200), deadline=None)
@given(
    method=st.sampled_from(["ModelInfer", "ModelMetadata", "ModelReady", "ServerReady"]),
    payload=st.one_of(
        st.binary(max_size=64),
        st.builds(
            lambda head, tail: head + tail,
            st.just(pb.ModelInferRequest(model_name=MODEL).SerializeToString()),
            st.binary(max_size=32),
        ),
    ),
)
def test_any_bytes_get_ok_or_a_client_error_never_internal(
    channel: grpc.Channel, method: str, payload: bytes
) -> None:
    call = channel.unary_unary(f"/inference.GRPCInferenceService/{method}")
    code, details = _code(call, payload)
    assert code in CLIENT_CODES, (code, details)
