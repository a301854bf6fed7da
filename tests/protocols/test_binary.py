"""The binary tensor data extension's framing, apart from any transport."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import BadInferenceRequestError
from app.protocols.binary import (
    binary_outputs,
    decode_tensor,
    encode_tensor,
    parse_json_request,
    read_request,
    write_response,
)
from app.schemas_v2 import InferenceResponse, ResponseOutput
from tests.support import fuzz_examples


def frame(*elements: bytes) -> bytes:
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


def request_body(inputs: list[dict[str, Any]], raw: bytes, **extra: Any) -> tuple[bytes, str]:
    header = json.dumps({"inputs": inputs, **extra}).encode()
    return header + raw, str(len(header))


def binary_input(name: str, shape: list[int], size: int) -> dict[str, Any]:
    return {
        "name": name,
        "shape": shape,
        "datatype": "BYTES",
        "parameters": {"binary_data_size": size},
    }


@pytest.mark.parametrize(
    ("elements", "raw"),
    [
        ([], b""),
        ([""], b"\x00\x00\x00\x00"),
        (["kopi"], b"\x04\x00\x00\x00kopi"),
        (["a", "bé"], b"\x01\x00\x00\x00a\x03\x00\x00\x00b\xc3\xa9"),
    ],
)
def test_bytes_elements_are_length_prefixed_little_endian(elements: list[str], raw: bytes) -> None:
    assert encode_tensor("BYTES", elements) == raw
    assert decode_tensor("title", "BYTES", [len(elements)], raw) == elements


@pytest.mark.parametrize(
    ("datatype", "values"),
    [("FP64", [0.25, 1.0]), ("FP32", [0.5]), ("INT32", [-1, 7]), ("BOOL", [True, False])],
)
def test_numbers_are_little_endian_values(datatype: str, values: list[Any]) -> None:
    raw = encode_tensor(datatype, values)
    assert decode_tensor("x", datatype, [len(values)], raw) == values
    if datatype == "FP64":
        assert raw == struct.pack("<2d", *values)


@pytest.mark.parametrize(
    ("shape", "raw", "error"),
    [
        (
            [1],
            b"\x05\x00\x00\x00kopi",
            "input 'title' element 0 is 5 bytes long but only 4 bytes are left",
        ),
        ([1], b"\x04\x00\x00", "input 'title' binary data ends inside an element's 4-byte length"),
        (
            [2],
            frame(b"kopi"),
            "input 'title' has shape [2] (2 elements) but its binary data holds 1",
        ),
        (
            [1],
            frame(b"kopi", b"teh"),
            "input 'title' has more elements in its binary data than its shape's 1",
        ),
        ([-1], frame(b"kopi"), "input 'title' has a negative dimension in [-1]"),
        ([1], frame(b"\xff"), "input 'title' element 0 is not UTF-8 text"),
    ],
)
def test_malformed_bytes_tensors_say_what_is_wrong(
    shape: list[int], raw: bytes, error: str
) -> None:
    with pytest.raises(BadInferenceRequestError) as caught:
        decode_tensor("title", "BYTES", shape, raw)
    assert str(caught.value) == error


def test_a_number_tensor_of_a_partial_element_is_refused() -> None:
    with pytest.raises(BadInferenceRequestError, match="not a multiple of FP64's 8"):
        decode_tensor("x", "FP64", [1], b"\x00" * 7)


def test_a_request_with_binary_inputs_reads_their_data() -> None:
    titles = frame(b"kemeja batik", b"kopi")
    listings = frame(b'{"title": "x"}')
    body, length = request_body(
        [binary_input("title", [2], len(titles)), binary_input("listing", [1], len(listings))],
        titles + listings,
    )
    request = read_request(body, length)
    assert [t.data for t in request.inputs] == [["kemeja batik", "kopi"], ['{"title": "x"}']]


def test_json_and_binary_inputs_mix() -> None:
    titles = frame(b"kopi")
    body, length = request_body(
        [
            binary_input("title", [1], len(titles)),
            {"name": "listing", "shape": [1], "datatype": "BYTES", "data": ["{}"]},
        ],
        titles,
    )
    assert [t.data for t in read_request(body, length).inputs] == [["kopi"], ["{}"]]


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (
            lambda: (request_body([binary_input("title", [1], 8)], frame(b"kopi"))[0], "999"),
            "Inference-Header-Content-Length is 999 but the body has only",
        ),
        (
            lambda: (request_body([binary_input("title", [1], 8)], frame(b"kopi"))[0], "-3"),
            "Inference-Header-Content-Length must be a number of bytes, not '-3'",
        ),
        (
            lambda: request_body([binary_input("title", [1], 9)], frame(b"kopi")),
            "input 'title' has binary_data_size 9 but only 8 bytes of binary data are left",
        ),
        (
            lambda: request_body([binary_input("title", [1], 8)], frame(b"kopi") + b"x"),
            "the body has 1 bytes of binary data that no input claims",
        ),
        (
            lambda: request_body([binary_input("title", [1], -8)], frame(b"kopi")),
            "input 'title': binary_data_size must be a number of bytes, not -8",
        ),
        (
            lambda: request_body(
                [{**binary_input("title", [1], 8), "data": ["kopi"]}], frame(b"kopi")
            ),
            "input 'title' has both data and binary_data_size",
        ),
        (
            lambda: (request_body([binary_input("title", [1], 8)], b"")[0], None),
            "input 'title' has binary_data_size but the request has no "
            "Inference-Header-Content-Length",
        ),
        (
            lambda: (b'{"inputs": [' + frame(b"kopi"), "12"),
            "invalid inference request: not JSON",
        ),
    ],
)
def test_malformed_binary_requests_say_what_is_wrong(make: Any, error: str) -> None:
    body, length = make()
    with pytest.raises(BadInferenceRequestError) as caught:
        read_request(body, length)
    assert str(caught.value).startswith(error)


def test_outputs_go_binary_when_asked_per_output_or_for_all() -> None:
    names = ["decision", "cluster_confidence"]
    inputs = [{"name": "title", "shape": [1], "datatype": "BYTES", "data": ["kopi"]}]

    def ask(**extra: Any) -> frozenset[str]:
        return binary_outputs(
            parse_json_request(json.dumps({"inputs": inputs, **extra}).encode()), names
        )

    assert ask() == frozenset()
    assert ask(parameters={"binary_data_output": True}) == frozenset(names)
    assert ask(outputs=[{"name": "decision", "parameters": {"binary_data": True}}]) == {"decision"}
    both = ask(
        parameters={"binary_data_output": True},
        outputs=[{"name": "decision", "parameters": {"binary_data": False}}],
    )
    assert both == {"cluster_confidence"}
    with pytest.raises(BadInferenceRequestError, match="'binary_data' must be true or false"):
        ask(outputs=[{"name": "decision", "parameters": {"binary_data": "yes"}}])


def test_a_binary_answer_has_a_json_header_then_the_outputs_in_order() -> None:
    response = InferenceResponse(
        model_name="m",
        id="1",
        outputs=[
            ResponseOutput(name="decision", shape=[2], datatype="BYTES", data=["allow", "block"]),
            ResponseOutput(name="p", shape=[2], datatype="FP64", data=[0.5, 0.25]),
        ],
    )
    body, length = write_response(response, {"decision", "p"})
    assert length is not None
    header = json.loads(body[:length])
    assert header["outputs"] == [
        {
            "name": "decision",
            "shape": [2],
            "datatype": "BYTES",
            "parameters": {"binary_data_size": 18},
        },
        {"name": "p", "shape": [2], "datatype": "FP64", "parameters": {"binary_data_size": 16}},
    ]
    assert body[length:] == frame(b"allow", b"block") + struct.pack("<2d", 0.5, 0.25)
    plain, none = write_response(response, set())
    assert none is None
    assert json.loads(plain)["outputs"][1]["data"] == [0.5, 0.25]


@settings(max_examples=fuzz_examples(300), deadline=None)
@given(
    elements=st.lists(st.binary(max_size=12), max_size=4),
    shape=st.lists(st.integers(-2, 5), min_size=1, max_size=2),
    cut=st.integers(0, 64),
    junk=st.binary(max_size=8),
    declared=st.one_of(st.none(), st.integers(-4, 80)),
    header_delta=st.integers(-3, 3),
)
def test_any_binary_framing_is_read_or_refused_as_a_bad_request(
    elements: list[bytes],
    shape: list[int],
    cut: int,
    junk: bytes,
    declared: int | None,
    header_delta: int,
) -> None:
    raw = (frame(*elements) + junk)[: cut + len(junk)]
    size = len(raw) if declared is None else declared
    body, length = request_body([binary_input("title", shape, size)], raw)
    try:
        request = read_request(body, str(int(length) + header_delta))
    except BadInferenceRequestError:
        return
    data = request.inputs[0].data
    assert data is not None and all(isinstance(x, str) for x in data)
