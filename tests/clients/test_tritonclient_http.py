"""tritonclient's HTTP client, as a platform team would use it, against the real process."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton_http
from tritonclient.utils import InferenceServerException

from tests.clients.conftest import Server

MODEL = "akar-gate"
TITLES = ["Kemeja Batik Pria Lengan Panjang", "Coklat Import Turki 200gr", "Panci Presto 24cm"]
OUTPUTS = ["decision", "cluster", "origin", "cluster_confidence", "import_probability"]


def expected(server: Server, titles: list[str]) -> dict[str, list[Any]]:
    listings = [{"title": t} for t in titles]
    results = httpx.post(f"{server.url}/v1/screen/batch", json={"listings": listings}).json()
    rows = results["results"]
    return {
        "decision": [r["decision"] for r in rows],
        "cluster": [r["cluster"]["label"] for r in rows],
        "origin": [r["origin"]["label"] for r in rows],
        "cluster_confidence": [r["cluster"]["confidence"] for r in rows],
        "import_probability": [r["origin"]["import_probability"] for r in rows],
    }


def columns(result: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name in OUTPUTS:
        array = result.as_numpy(name)
        # BYTES come back as bytes (binary) or str (JSON), FP64 as floats.
        out[name] = [
            x.decode() if isinstance(x, bytes) else x if isinstance(x, str) else float(x)
            for x in array.tolist()
        ]
    return out


@pytest.mark.parametrize("binary_data", [True, False])
def test_tritonclient_http_infer_answers_as_v1(server: Server, binary_data: bool) -> None:
    client = triton_http.InferenceServerClient(url=f"127.0.0.1:{server.http_port}")
    try:
        titles = triton_http.InferInput("title", [len(TITLES)], "BYTES")
        titles.set_data_from_numpy(np.array(TITLES, dtype=object), binary_data=binary_data)
        outputs = [triton_http.InferRequestedOutput(n, binary_data=binary_data) for n in OUTPUTS]
        result = client.infer(MODEL, inputs=[titles], outputs=outputs)
    finally:
        client.close()
    assert columns(result) == expected(server, TITLES)
    assert columns(result)["decision"] == ["allow", "block", "allow"]


def test_tritonclient_http_without_requested_outputs_gets_all_in_binary(server: Server) -> None:
    client = triton_http.InferenceServerClient(url=f"127.0.0.1:{server.http_port}")
    try:
        titles = triton_http.InferInput("title", [len(TITLES)], "BYTES")
        titles.set_data_from_numpy(np.array(TITLES, dtype=object))
        result = client.infer(MODEL, inputs=[titles])
        response = result.get_response()
    finally:
        client.close()
    assert all("binary_data_size" in o["parameters"] for o in response["outputs"])
    assert columns(result) == expected(server, TITLES)


def test_tritonclient_http_health_and_metadata(server: Server) -> None:
    client = triton_http.InferenceServerClient(url=f"127.0.0.1:{server.http_port}")
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready(MODEL)
        assert client.get_server_metadata()["extensions"] == ["binary_tensor_data"]
        metadata = client.get_model_metadata(MODEL)
    finally:
        client.close()
    assert [t["name"] for t in metadata["inputs"]] == ["title", "listing"]
    assert [t["name"] for t in metadata["outputs"]] == OUTPUTS


def test_tritonclient_http_sees_the_servers_error(server: Server) -> None:
    client = triton_http.InferenceServerClient(url=f"127.0.0.1:{server.http_port}")
    try:
        wrong = triton_http.InferInput("title", [1, 2], "BYTES")
        wrong.set_data_from_numpy(np.array([["kopi", "teh"]], dtype=object))
        with pytest.raises(InferenceServerException) as caught:
            client.infer(MODEL, inputs=[wrong])
        with pytest.raises(InferenceServerException) as unknown:
            client.infer("other", inputs=[wrong])
    finally:
        client.close()
    assert caught.value.status() == "400"
    assert caught.value.message() == (
        "input 'title' has shape [1, 2] but 2 elements; expected shape [n] with n elements"
    )
    assert unknown.value.status() == "404"
