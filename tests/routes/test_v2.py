"""Open Inference Protocol (KServe v2): shapes as in the protocol's REST specification."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.support import fuzz_examples

INFER = "/v2/models/akar-gate/infer"
LISTINGS = [
    {"title": "kemeja batik", "origin_country": "CN"},
    {"title": "keripik tempe"},
    {"title": "charger 33w", "seller": {"cross_border": True}},
]
OUTPUT_NAMES = ["decision", "cluster", "origin", "cluster_confidence", "import_probability"]


def _bytes(name: str, data: list[Any], shape: list[int] | None = None) -> dict[str, Any]:
    return {"name": name, "shape": shape or [len(data)], "datatype": "BYTES", "data": data}


def _columns(body: dict[str, Any]) -> dict[str, list[Any]]:
    return {o["name"]: o["data"] for o in body["outputs"]}


def _expected(v1_results: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {
        "decision": [r["decision"] for r in v1_results],
        "cluster": [r["cluster"]["label"] for r in v1_results],
        "origin": [r["origin"]["label"] for r in v1_results],
        "cluster_confidence": [r["cluster"]["confidence"] for r in v1_results],
        "import_probability": [r["origin"]["import_probability"] for r in v1_results],
    }


def test_server_live(client: TestClient) -> None:
    r = client.get("/v2/health/live")
    assert (r.status_code, r.json()) == (200, {"live": True})


def test_server_and_model_ready_once_loaded(client: TestClient) -> None:
    r = client.get("/v2/health/ready")
    assert (r.status_code, r.json()) == (200, {"ready": True})
    r = client.get("/v2/models/akar-gate/ready")
    assert (r.status_code, r.json()) == (200, {"name": "akar-gate", "ready": True})


def test_server_and_model_not_ready_without_a_model(make_client: Any, tmp_path: Path) -> None:
    c = make_client(model_dir=tmp_path, require_model=False)
    r = c.get("/v2/health/ready")
    assert (r.status_code, r.json()) == (503, {"ready": False})
    r = c.get("/v2/models/akar-gate/ready")
    assert (r.status_code, r.json()) == (503, {"name": "akar-gate", "ready": False})
    assert c.get("/v2/health/live").status_code == 200
    r = c.post(INFER, json={"inputs": [_bytes("title", ["kopi"])]})
    assert r.status_code == 503
    assert set(r.json()) == {"error"}
    assert r.json()["error"].startswith("no model is loaded: MODEL_STORE_ERROR")


def test_server_metadata(client: TestClient) -> None:
    r = client.get("/v2")
    assert (r.status_code, r.json()) == (
        200,
        {"name": "akar-gate", "version": "1.0.0", "extensions": ["binary_tensor_data"]},
    )


def test_model_metadata_lists_inputs_outputs_and_the_serving_version(client: TestClient) -> None:
    r = client.get("/v2/models/akar-gate")
    assert r.status_code == 200
    assert r.json() == {
        "name": "akar-gate",
        "versions": ["tiny-1"],
        "platform": "sklearn",
        "inputs": [
            {"name": "title", "datatype": "BYTES", "shape": [-1]},
            {"name": "listing", "datatype": "BYTES", "shape": [-1]},
        ],
        "outputs": [
            {"name": "decision", "datatype": "BYTES", "shape": [-1]},
            {"name": "cluster", "datatype": "BYTES", "shape": [-1]},
            {"name": "origin", "datatype": "BYTES", "shape": [-1]},
            {"name": "cluster_confidence", "datatype": "FP64", "shape": [-1]},
            {"name": "import_probability", "datatype": "FP64", "shape": [-1]},
        ],
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v2/models/other"),
        ("get", "/v2/models/other/ready"),
        ("post", "/v2/models/other/infer"),
    ],
)
def test_an_unknown_model_is_404_in_the_protocol_error_shape(
    client: TestClient, method: str, path: str
) -> None:
    kwargs = {"json": {"inputs": [_bytes("title", ["kopi"])]}} if method == "post" else {}
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == 404
    assert r.json() == {"error": "model 'other' is not served here; try 'akar-gate'"}


def test_infer_answers_as_v1_does(client: TestClient) -> None:
    titles = ["kemeja batik", "keripik tempe", "charger 33w", "patung ukiran kayu"]
    r = client.post(INFER, json={"id": "42", "inputs": [_bytes("title", titles)]})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"model_name", "model_version", "id", "parameters", "outputs"}
    assert (body["model_name"], body["model_version"], body["id"]) == ("akar-gate", "tiny-1", "42")
    assert body["parameters"] == {"policy_version": "akar-2021.1", "policy_mode": "enforce"}
    assert [(o["name"], o["datatype"], o["shape"]) for o in body["outputs"]] == [
        ("decision", "BYTES", [4]),
        ("cluster", "BYTES", [4]),
        ("origin", "BYTES", [4]),
        ("cluster_confidence", "FP64", [4]),
        ("import_probability", "FP64", [4]),
    ]
    v1 = client.post("/v1/screen/batch", json={"listings": [{"title": t} for t in titles]})
    assert _columns(body) == _expected(v1.json()["results"])
    assert _columns(body)["cluster"] == ["textile_fashion", "culinary", "other", "handicraft"]


def test_infer_without_an_id_gets_one(client: TestClient) -> None:
    body = client.post(INFER, json={"inputs": [_bytes("title", ["kopi"])]}).json()
    assert re.fullmatch(r"[0-9a-f]{32}", body["id"])


def test_infer_takes_json_listings_with_their_structured_fields(client: TestClient) -> None:
    raw = [json.dumps(x) for x in LISTINGS]
    r = client.post(INFER, json={"inputs": [_bytes("listing", raw)]})
    assert r.status_code == 200
    v1 = client.post("/v1/screen/batch", json={"listings": LISTINGS}).json()["results"]
    assert _columns(r.json()) == _expected(v1)
    assert _columns(r.json())["decision"] == ["block", "allow", "allow"]
    assert _columns(r.json())["origin"] == ["import", "domestic", "import"]


def test_a_title_input_overrides_the_listings_titles(client: TestClient) -> None:
    raw = [json.dumps({"title": "charger 33w", "origin_country": "CN"})]
    inputs = [_bytes("title", ["kemeja batik"]), _bytes("listing", raw)]
    r = client.post(INFER, json={"inputs": inputs})
    assert r.status_code == 200
    assert _columns(r.json())["cluster"] == ["textile_fashion"]
    assert _columns(r.json())["decision"] == ["block"]


def test_only_the_requested_outputs_come_back_in_their_order(client: TestClient) -> None:
    r = client.post(
        INFER,
        json={
            "inputs": [_bytes("title", ["kopi"])],
            "outputs": [{"name": "import_probability"}, {"name": "decision"}],
        },
    )
    assert r.status_code == 200
    assert [o["name"] for o in r.json()["outputs"]] == ["import_probability", "decision"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "invalid inference request: inputs: Field required"),
        (
            {"inputs": []},
            "invalid inference request: inputs: List should have at least 1 item after "
            "validation, not 0",
        ),
        (
            {"inputs": [{**_bytes("title", ["kopi"]), "datatype": "STRING"}]},
            "invalid inference request: inputs.0.datatype: Input should be 'BOOL', 'UINT8', "
            "'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', "
            "'FP64' or 'BYTES'",
        ),
        (
            {"inputs": [{**_bytes("title", ["kopi"]), "datatype": "FP32"}]},
            "input 'title' must be BYTES, not FP32",
        ),
        (
            {"inputs": [_bytes("title", ["a", "b"], shape=[3])]},
            "input 'title' has shape [3] but 2 elements; expected shape [n] with n elements",
        ),
        (
            {"inputs": [_bytes("title", ["a", "b"], shape=[1, 2])]},
            "input 'title' has shape [1, 2] but 2 elements; expected shape [n] with n elements",
        ),
        (
            {"inputs": [_bytes("text", ["kopi"])]},
            "unknown input 'text': expected 'title', 'listing'",
        ),
        (
            {"inputs": [_bytes("title", ["kopi"]), _bytes("title", ["teh"])]},
            "input 'title' is given twice",
        ),
        ({"inputs": [_bytes("title", [42])]}, "input 'title' elements must be strings"),
        ({"inputs": [_bytes("title", [])]}, "expected 1 to 1000 listings, got 0"),
        ({"inputs": [_bytes("title", ["k"] * 1001)]}, "expected 1 to 1000 listings, got 1001"),
        (
            {"inputs": [_bytes("title", ["kopi", "   "])]},
            "listing 1 is invalid: title: Value error, title has no visible characters",
        ),
        (
            {"inputs": [_bytes("title", ["a", "b"]), _bytes("listing", ["{}"])]},
            "inputs 'title' and 'listing' must have the same shape",
        ),
        ({"inputs": [_bytes("listing", ["{not json"])]}, "input 'listing' element 0 is not JSON"),
        (
            {"inputs": [_bytes("listing", ['["a list"]'])]},
            "input 'listing' element 0 is not a JSON object",
        ),
        (
            {"inputs": [_bytes("listing", ["[" * 100_000 + "]" * 100_000])]},
            "input 'listing' element 0 is not JSON",
        ),
        (
            {"inputs": [_bytes("listing", ['{"title": "x", "origin_country": "XX"}'])]},
            "listing 0 is invalid: origin_country: Value error, 'XX' is not an ISO 3166-1 "
            "alpha-2 country code",
        ),
        (
            {"inputs": [_bytes("title", ["kopi"])], "outputs": [{"name": "price"}]},
            "unknown output 'price': expected one of decision, cluster, origin, "
            "cluster_confidence, import_probability",
        ),
    ],
)
def test_a_bad_inference_request_is_400_saying_why(
    client: TestClient, body: dict[str, Any], error: str
) -> None:
    r = client.post(INFER, json=body)
    assert r.status_code == 400
    assert r.json() == {"error": error}


def test_malformed_json_is_400_in_the_protocol_error_shape(client: TestClient) -> None:
    r = client.post(INFER, content=b'{"inputs": ', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert set(r.json()) == {"error"}
    assert r.json()["error"].startswith("invalid inference request: ")


def test_infer_and_metadata_need_a_key_when_keys_are_configured(make_client: Any) -> None:
    c = make_client(api_key_sha256=[hashlib.sha256(b"s3cret").hexdigest()])
    body = {"inputs": [_bytes("title", ["kopi"])]}
    r = c.post(INFER, json=body)
    assert (r.status_code, r.json()) == (401, {"error": "send 'Authorization: Bearer <key>'"})
    assert r.headers["www-authenticate"] == "Bearer"
    assert c.get("/v2/models/akar-gate").status_code == 401
    ok = {"Authorization": "Bearer s3cret"}
    assert c.post(INFER, json=body, headers=ok).status_code == 200
    assert c.get("/v2/models/akar-gate", headers=ok).status_code == 200
    for open_path in ("/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/akar-gate/ready"):
        assert c.get(open_path).status_code == 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/octet-stream"])
def test_infer_reads_json_whatever_the_content_type_says(
    client: TestClient, content_type: str | None
) -> None:
    # tritonclient sends its JSON with no Content-Type at all; Triton, MLServer, KServe take it.
    body = json.dumps({"inputs": [_bytes("title", ["kemeja batik"])]}).encode()
    headers = {} if content_type is None else {"content-type": content_type}
    r = client.post(INFER, content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert _columns(r.json())["cluster"] == ["textile_fashion"]


def test_an_empty_infer_body_is_400_in_the_protocol_shape(client: TestClient) -> None:
    r = client.post(INFER)
    assert r.status_code == 400
    assert set(r.json()) == {"error"}
    assert r.json()["error"].startswith("invalid inference request: not JSON")


def test_auth_errors_have_the_protocol_shape(make_client: Any) -> None:
    c = make_client(api_key_sha256=[hashlib.sha256(b"s3cret").hexdigest()])
    body = {"inputs": [_bytes("title", ["kopi"])]}
    r = c.post(INFER, json=body, headers={"Authorization": "Bearer wrong"})
    assert (r.status_code, r.json()) == (403, {"error": "unknown API key"})
    r = c.get("/v2/models/akar-gate", headers={"Authorization": "Basic czNjcmV0"})
    assert (r.status_code, r.json()) == (401, {"error": "send 'Authorization: Bearer <key>'"})


def test_routing_errors_have_the_protocol_shape(client: TestClient) -> None:
    r = client.get(INFER)
    assert (r.status_code, r.json()) == (405, {"error": "Method Not Allowed"})
    r = client.get("/v2/repository/index")
    assert (r.status_code, r.json()) == (404, {"error": "Not Found"})


def test_an_unexpected_error_is_a_500_in_each_apis_shape(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.screening.screener import Screener

    def broken(self: Screener, listings: Any) -> Any:
        raise RuntimeError("a bug")

    c = make_client()
    c._transport.raise_server_exceptions = False
    monkeypatch.setattr(Screener, "screen", broken)
    r = c.post(INFER, json={"inputs": [_bytes("title", ["kopi"])]})
    assert (r.status_code, r.json()) == (500, {"error": "internal server error"})
    r = c.post("/v1/screen/batch", json={"listings": [{"title": "kopi"}]})
    assert (r.status_code, r.json()) == (
        500,
        {"code": "INTERNAL_ERROR", "detail": "internal server error"},
    )


def test_v1_errors_keep_their_own_shape(client: TestClient) -> None:
    r = client.post("/v1/screen", json={})
    assert r.status_code == 422
    assert r.json()["code"] == "VALIDATION_ERROR"


def test_the_default_model_answers_v2_as_v1(default_client: TestClient) -> None:
    titles = ["Kemeja Batik Pria Lengan Panjang", "Coklat Import Turki 200gr", "Panci Presto 24cm"]
    r = default_client.post(INFER, json={"inputs": [_bytes("title", titles)]})
    assert r.status_code == 200
    v1 = default_client.post("/v1/screen/batch", json={"listings": [{"title": t} for t in titles]})
    assert _columns(r.json()) == _expected(v1.json()["results"])
    assert _columns(r.json())["decision"] == ["allow", "block", "allow"]


# Any string, lone surrogates included: JSON's \u escapes carry them, UTF-8 cannot.
_ANY_TEXT = st.text(
    st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)),
    max_size=12,
)
_SCALAR = st.one_of(_ANY_TEXT, st.integers(), st.floats(allow_nan=False), st.booleans())


@settings(
    max_examples=fuzz_examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    request_id=st.one_of(st.none(), _ANY_TEXT),
    name=st.one_of(st.just("title"), st.just("listing"), _ANY_TEXT),
    data=st.lists(st.one_of(_ANY_TEXT, st.just('{"title": "kemeja"}')), min_size=1, max_size=3),
    parameters=st.dictionaries(_ANY_TEXT, _SCALAR, max_size=2),
    output=st.one_of(st.none(), _ANY_TEXT),
)
def test_any_client_strings_get_an_answer_in_the_protocol_shape_never_a_500(
    client: TestClient,
    request_id: str | None,
    name: str,
    data: list[str],
    parameters: dict[str, object],
    output: str | None,
) -> None:
    body: dict[str, object] = {
        "inputs": [{"name": name, "shape": [len(data)], "datatype": "BYTES", "data": data}],
        "parameters": parameters,
    }
    if request_id is not None:
        body["id"] = request_id
    if output is not None:
        body["outputs"] = [{"name": output}]
    r = client.post(
        "/v2/models/akar-gate/infer",
        content=json.dumps(body).encode("ascii"),  # ensure_ascii: surrogates as \u escapes
        headers={"content-type": "application/json"},
    )
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert set(r.json()) == {"error"}


@settings(
    max_examples=fuzz_examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.binary(max_size=64), st.sampled_from(["/v2/models/akar-gate/infer", "/v1/screen"]))
def test_bytes_that_are_not_utf8_json_get_a_4xx_in_each_apis_shape(
    client: TestClient, junk: bytes, path: str
) -> None:
    if path.startswith("/v2"):
        head, tail = (
            b'{"inputs": [{"name": "title", "shape": [1], "datatype": "BYTES", "data": ["',
            b'"]}]}',
        )
    else:
        head, tail = b'{"title": "kemeja ', b'"}'
    try:
        junk.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        assume(False)  # valid UTF-8: the other tests' business
    r = client.post(path, content=head + junk + tail, headers={"content-type": "application/json"})

    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()) == ({"error"} if path.startswith("/v2") else {"code", "detail"})


def _frame(*elements: str) -> bytes:
    return b"".join(len(e.encode()).to_bytes(4, "little") + e.encode() for e in elements)


def _binary_request(
    titles: list[str], shape: list[int] | None = None, **extra: Any
) -> tuple[bytes, dict[str, str]]:
    raw = _frame(*titles)
    tensor = {
        "name": "title",
        "shape": shape or [len(titles)],
        "datatype": "BYTES",
        "parameters": {"binary_data_size": len(raw)},
    }
    header = json.dumps({"inputs": [tensor], **extra}).encode()
    return header + raw, {"Inference-Header-Content-Length": str(len(header))}


def _read_binary_answer(r: Any) -> dict[str, list[Any]]:
    """The answer's columns, decoding the outputs sent in binary."""
    import struct

    n = int(r.headers["inference-header-content-length"])
    header, rest = json.loads(r.content[:n]), r.content[n:]
    columns: dict[str, list[Any]] = {}
    for o in header["outputs"]:
        if "data" in o:
            columns[o["name"]] = o["data"]
            continue
        size = o["parameters"]["binary_data_size"]
        chunk, rest = rest[:size], rest[size:]
        if o["datatype"] == "FP64":
            columns[o["name"]] = list(struct.unpack(f"<{size // 8}d", chunk))
        else:
            values = []
            while chunk:
                k = int.from_bytes(chunk[:4], "little")
                values.append(chunk[4 : 4 + k].decode())
                chunk = chunk[4 + k :]
            columns[o["name"]] = values
    assert rest == b""
    return columns


def test_binary_inputs_and_outputs_answer_as_v1_does(client: TestClient) -> None:
    titles = ["kemeja batik", "keripik tempe", "charger 33w"]
    body, headers = _binary_request(titles, parameters={"binary_data_output": True})
    r = client.post(INFER, content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/octet-stream"
    v1 = client.post("/v1/screen/batch", json={"listings": [{"title": t} for t in titles]})
    assert _read_binary_answer(r) == _expected(v1.json()["results"])


def test_binary_inputs_with_json_outputs(client: TestClient) -> None:
    body, headers = _binary_request(["kemeja batik"])
    r = client.post(INFER, content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert "inference-header-content-length" not in r.headers
    assert _columns(r.json())["cluster"] == ["textile_fashion"]


def test_only_the_outputs_asked_for_in_binary_are_binary(client: TestClient) -> None:
    outputs = [
        {"name": "decision", "parameters": {"binary_data": True}},
        {"name": "cluster"},
    ]
    r = client.post(INFER, json={"inputs": [_bytes("title", ["kopi"])], "outputs": outputs})
    assert r.status_code == 200
    n = int(r.headers["inference-header-content-length"])
    header = json.loads(r.content[:n])
    assert header["outputs"][0]["parameters"] == {"binary_data_size": 9}
    assert "data" not in header["outputs"][0]
    assert header["outputs"][1]["data"] == ["culinary"]
    assert r.content[n:] == _frame("allow")


@pytest.mark.parametrize(
    ("body", "headers", "error"),
    [
        (
            _binary_request(["kopi"])[0],
            {"Inference-Header-Content-Length": "100000"},
            "Inference-Header-Content-Length is 100000 but the body has only",
        ),
        (
            _binary_request(["kopi"])[0] + b"\x00",
            _binary_request(["kopi"])[1],
            "the body has 1 bytes of binary data that no input claims",
        ),
        (
            *_binary_request(["kopi", "teh"], shape=[3]),
            "input 'title' has shape [3] (3 elements) but its binary data holds 2",
        ),
        (
            _binary_request(["kopi"])[0][:-8] + b"\xff\x00\x00\x00kopi",
            _binary_request(["kopi"])[1],
            "input 'title' element 0 is 255 bytes long but only 4 bytes are left",
        ),
    ],
)
def test_malformed_binary_is_400_in_the_protocol_shape(
    client: TestClient, body: bytes, headers: dict[str, str], error: str
) -> None:
    r = client.post(INFER, content=body, headers=headers)
    assert r.status_code == 400
    assert set(r.json()) == {"error"}
    assert r.json()["error"].startswith(error)


@settings(
    max_examples=fuzz_examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    tail=st.binary(max_size=40),
    header_length=st.one_of(st.integers(-2, 400).map(str), st.text(max_size=4)),
    size=st.one_of(st.integers(-2, 60), st.booleans(), st.text(max_size=3)),
    shape=st.lists(st.integers(-2, 3), min_size=1, max_size=2),
)
def test_any_binary_body_gets_an_answer_in_the_protocol_shape_never_a_500(
    client: TestClient, tail: bytes, header_length: str, size: object, shape: list[int]
) -> None:
    tensor = {
        "name": "title",
        "shape": shape,
        "datatype": "BYTES",
        "parameters": {"binary_data_size": size},
    }
    header = json.dumps({"inputs": [tensor], "parameters": {"binary_data_output": True}})
    assume(header_length.isprintable() and header_length.isascii())
    r = client.post(
        INFER,
        content=header.encode() + tail,
        headers={"Inference-Header-Content-Length": header_length},
    )
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert set(r.json()) == {"error"}
