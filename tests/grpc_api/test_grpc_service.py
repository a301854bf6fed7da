"""The Open Inference Protocol over gRPC, against the real process: tritonclient.grpc, raw
stubs (tritonclient's generated messages, the protocol's wire format) and grpc.health.v1."""

from __future__ import annotations

import json
import signal
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import numpy as np
import pytest
import tritonclient.grpc as triton_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tritonclient.grpc import service_pb2 as pb
from tritonclient.grpc import service_pb2_grpc

from tests.grpc_api.conftest import API_KEY, GrpcServer

MODEL = "akar-gate"
TITLES = ["Kemeja Batik Pria Lengan Panjang", "Coklat Import Turki 200gr", "Panci Presto 24cm"]
OUTPUTS = ["decision", "cluster", "origin", "cluster_confidence", "import_probability"]
TIMEOUT = 30  # seconds: generous, the machine is busy


@pytest.fixture
def stub(grpc_server: GrpcServer) -> Iterator[service_pb2_grpc.GRPCInferenceServiceStub]:
    with grpc.insecure_channel(grpc_server.target) as channel:
        yield service_pb2_grpc.GRPCInferenceServiceStub(channel)


def v1_columns(server: GrpcServer, titles: list[str]) -> dict[str, list[Any]]:
    listings = [{"title": t} for t in titles]
    rows = httpx.post(f"{server.url}/v1/screen/batch", json={"listings": listings}).json()
    return {
        "decision": [r["decision"] for r in rows["results"]],
        "cluster": [r["cluster"]["label"] for r in rows["results"]],
        "origin": [r["origin"]["label"] for r in rows["results"]],
        "cluster_confidence": [r["cluster"]["confidence"] for r in rows["results"]],
        "import_probability": [r["origin"]["import_probability"] for r in rows["results"]],
    }


def triton_columns(result: Any) -> dict[str, list[Any]]:
    return {
        name: [x.decode() if isinstance(x, bytes) else float(x) for x in result.as_numpy(name)]
        for name in OUTPUTS
    }


def contents_columns(response: Any) -> dict[str, list[Any]]:
    return {
        o.name: (
            [b.decode() for b in o.contents.bytes_contents]
            if o.datatype == "BYTES"
            else list(o.contents.fp64_contents)
        )
        for o in response.outputs
    }


def frame(*elements: bytes) -> bytes:
    return b"".join(struct.pack("<I", len(e)) + e for e in elements)


def bytes_input(name: str, values: list[bytes], shape: list[int] | None = None) -> Any:
    tensor = pb.ModelInferRequest.InferInputTensor(
        name=name, datatype="BYTES", shape=shape or [len(values)]
    )
    tensor.contents.bytes_contents.extend(values)
    return tensor


def code_of(call: Any) -> tuple[grpc.StatusCode, str]:
    try:
        call()
    except grpc.RpcError as exc:
        return exc.code(), exc.details()
    return grpc.StatusCode.OK, ""


def test_tritonclient_grpc_infer_answers_as_v1(grpc_server: GrpcServer) -> None:
    client = triton_grpc.InferenceServerClient(grpc_server.target)
    try:
        titles = triton_grpc.InferInput("title", [len(TITLES)], "BYTES")
        titles.set_data_from_numpy(np.array(TITLES, dtype=object))
        outputs = [triton_grpc.InferRequestedOutput(n) for n in OUTPUTS]
        result = client.infer(MODEL, inputs=[titles], outputs=outputs, request_id="r-1")
    finally:
        client.close()
    assert triton_columns(result) == v1_columns(grpc_server, TITLES)
    assert triton_columns(result)["decision"] == ["allow", "block", "allow"]
    response = result.get_response()
    assert (response.model_name, response.model_version, response.id) == (
        MODEL,
        "akar-1.8.0",
        "r-1",
    )
    assert response.parameters["policy_version"].string_param == "akar-2021.1"


def test_tritonclient_grpc_health_and_metadata(grpc_server: GrpcServer) -> None:
    client = triton_grpc.InferenceServerClient(grpc_server.target)
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready(MODEL)
        assert not client.is_model_ready(MODEL, model_version="no-such-version")
        server = client.get_server_metadata(as_json=True)
        metadata = client.get_model_metadata(MODEL, as_json=True)
    finally:
        client.close()
    assert server == {"name": MODEL, "version": "1.0.0"}
    assert metadata["versions"] == ["akar-1.8.0"]
    assert metadata["platform"] == "sklearn"
    assert [(t["name"], t["datatype"], t["shape"]) for t in metadata["inputs"]] == [
        ("title", "BYTES", ["-1"]),
        ("listing", "BYTES", ["-1"]),
    ]
    assert [t["name"] for t in metadata["outputs"]] == OUTPUTS


def test_bytes_contents_in_give_typed_contents_out(
    grpc_server: GrpcServer, stub: service_pb2_grpc.GRPCInferenceServiceStub
) -> None:
    listings = [json.dumps({"title": t}).encode() for t in TITLES]
    request = pb.ModelInferRequest(model_name=MODEL, inputs=[bytes_input("listing", listings)])
    response = stub.ModelInfer(request, timeout=TIMEOUT)
    assert not response.raw_output_contents
    assert contents_columns(response) == v1_columns(grpc_server, TITLES)
    assert len(response.id) == 32  # made when the request has none


def test_raw_input_contents_give_raw_outputs_in_the_order_asked(
    stub: service_pb2_grpc.GRPCInferenceServiceStub,
) -> None:
    request = pb.ModelInferRequest(
        model_name=MODEL,
        inputs=[pb.ModelInferRequest.InferInputTensor(name="title", datatype="BYTES", shape=[2])],
        outputs=[
            pb.ModelInferRequest.InferRequestedOutputTensor(name="import_probability"),
            pb.ModelInferRequest.InferRequestedOutputTensor(name="cluster"),
        ],
        raw_input_contents=[frame(b"Kemeja Batik Pria", b"Keripik Tempe")],
    )
    response = stub.ModelInfer(request, timeout=TIMEOUT)
    assert [o.name for o in response.outputs] == ["import_probability", "cluster"]
    assert len(response.raw_output_contents[0]) == 16  # two FP64
    assert response.raw_output_contents[1] == frame(b"textile_fashion", b"culinary")


def _infer(**fields: Any) -> Any:
    return pb.ModelInferRequest(**({"model_name": MODEL} | fields))


@pytest.mark.parametrize(
    ("request_", "code", "details"),
    [
        (
            _infer(model_name="other", inputs=[bytes_input("title", [b"kopi"])]),
            grpc.StatusCode.NOT_FOUND,
            "model 'other' is not served here; try 'akar-gate'",
        ),
        (
            _infer(model_version="0.1", inputs=[bytes_input("title", [b"kopi"])]),
            grpc.StatusCode.NOT_FOUND,
            "model 'akar-gate' version '0.1' is not served; 'akar-1.8.0' is",
        ),
        (
            _infer(inputs=[bytes_input("title", [b"kopi", b"teh"], shape=[3])]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "input 'title' has shape [3] but 2 elements; expected shape [n] with n elements",
        ),
        (
            _infer(inputs=[bytes_input("text", [b"kopi"])]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "unknown input 'text': expected 'title', 'listing'",
        ),
        (
            _infer(inputs=[bytes_input("title", [b"\xff"])]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "input 'title' has an element that is not UTF-8 text",
        ),
        (
            _infer(inputs=[]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "invalid inference request: inputs: List should have at least 1 item after "
            "validation, not 0",
        ),
        (
            _infer(
                inputs=[
                    pb.ModelInferRequest.InferInputTensor(
                        name="title", datatype="STRING", shape=[1]
                    )
                ]
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "invalid inference request: inputs.0.datatype: Input should be 'BOOL', 'UINT8', "
            "'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', "
            "'FP64' or 'BYTES'",
        ),
        (
            _infer(
                inputs=[
                    pb.ModelInferRequest.InferInputTensor(name="title", datatype="BYTES", shape=[1])
                ]
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "input 'title' has no data",
        ),
        (
            _infer(
                inputs=[
                    pb.ModelInferRequest.InferInputTensor(name="title", datatype="BYTES", shape=[1])
                ],
                raw_input_contents=[b"\x09\x00\x00\x00kopi"],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "input 'title' element 0 is 9 bytes long but only 4 bytes are left",
        ),
        (
            _infer(inputs=[bytes_input("title", [b"kopi"])], raw_input_contents=[frame(b"a")]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "input 'title' has contents beside raw_input_contents",
        ),
        (
            _infer(
                inputs=[bytes_input("title", [b"kopi"])],
                outputs=[pb.ModelInferRequest.InferRequestedOutputTensor(name="price")],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "unknown output 'price': expected one of decision, cluster, origin, "
            "cluster_confidence, import_probability",
        ),
    ],
)
def test_bad_requests_get_the_status_code_saying_why(
    stub: service_pb2_grpc.GRPCInferenceServiceStub,
    request_: Any,
    code: grpc.StatusCode,
    details: str,
) -> None:
    assert code_of(lambda: stub.ModelInfer(request_, timeout=TIMEOUT)) == (code, details)


def test_bytes_that_are_no_message_are_invalid_argument(grpc_server: GrpcServer) -> None:
    with grpc.insecure_channel(grpc_server.target) as channel:
        call = channel.unary_unary("/inference.GRPCInferenceService/ModelInfer")
        code, details = code_of(lambda: call(b"\xff\xff\xff", timeout=TIMEOUT))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith("not a ModelInferRequest message")


def test_a_message_over_the_size_limit_is_resource_exhausted(
    stub: service_pb2_grpc.GRPCInferenceServiceStub,
) -> None:
    huge = _infer(inputs=[bytes_input("title", [b"k" * 2_000_000])])
    code, _ = code_of(lambda: stub.ModelInfer(huge, timeout=TIMEOUT))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_api_keys_are_checked_as_over_http(locked_server: GrpcServer) -> None:
    request = _infer(inputs=[bytes_input("title", [b"kopi"])])
    with grpc.insecure_channel(locked_server.target) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        assert code_of(lambda: stub.ModelInfer(request, timeout=TIMEOUT)) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "send 'Authorization: Bearer <key>'",
        )
        wrong = (("authorization", "Bearer nope"),)
        assert code_of(lambda: stub.ModelInfer(request, metadata=wrong, timeout=TIMEOUT)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "unknown API key",
        )
        metadata_request = pb.ModelMetadataRequest(name=MODEL)
        assert code_of(lambda: stub.ModelMetadata(metadata_request, timeout=TIMEOUT))[0] == (
            grpc.StatusCode.UNAUTHENTICATED
        )
        key = (("authorization", f"Bearer {API_KEY}"),)
        response = stub.ModelInfer(request, metadata=key, timeout=TIMEOUT)
        assert contents_columns(response)["cluster"] == ["culinary"]
        # Health, liveness, readiness and server metadata stay open, as over HTTP.
        assert stub.ServerReady(pb.ServerReadyRequest(), timeout=TIMEOUT).ready
        assert stub.ModelReady(pb.ModelReadyRequest(name=MODEL), timeout=TIMEOUT).ready
    client = triton_grpc.InferenceServerClient(locked_server.target)
    try:
        titles = triton_grpc.InferInput("title", [1], "BYTES")
        titles.set_data_from_numpy(np.array(["kopi"], dtype=object))
        result = client.infer(MODEL, [titles], headers={"authorization": f"Bearer {API_KEY}"})
    finally:
        client.close()
    assert result.as_numpy("cluster").tolist() == [b"culinary"]


def test_health_service_answers_for_the_server_and_the_inference_service(
    grpc_server: GrpcServer,
) -> None:
    with grpc.insecure_channel(grpc_server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "inference.GRPCInferenceService"):
            answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=TIMEOUT)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        request = health_pb2.HealthCheckRequest(service="other")
        code, _ = code_of(lambda: health.Check(request, timeout=TIMEOUT))
    assert code == grpc.StatusCode.NOT_FOUND


def test_health_watch_streams_the_status_and_ends_when_the_drain_starts(
    make_server: Any,
) -> None:
    server = make_server(shutdown_drain_seconds="5")
    with grpc.insecure_channel(server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        unknown = health.Watch(health_pb2.HealthCheckRequest(service="other"), timeout=TIMEOUT)
        assert next(unknown).status == health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
        unknown.cancel()
        watch = health.Watch(health_pb2.HealthCheckRequest(), timeout=TIMEOUT)
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        server.proc.send_signal(signal.SIGTERM)
        assert [answer.status for answer in watch] == [health_pb2.HealthCheckResponse.NOT_SERVING]
    assert server.proc.wait(timeout=60) == 0


def test_calls_past_the_concurrency_bound_are_resource_exhausted(make_server: Any) -> None:
    server = make_server(grpc_max_concurrent_rpcs="1")
    request = _infer(inputs=[bytes_input("title", [b"kopi"])])
    with grpc.insecure_channel(server.target) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(), timeout=TIMEOUT
        )
        next(watch)  # an open stream: the one call this worker holds
        code, _ = code_of(lambda: stub.ModelInfer(request, timeout=TIMEOUT))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        watch.cancel()
        deadline = time.monotonic() + TIMEOUT
        while True:  # the cancelled stream's slot is given back
            try:
                answer = stub.ModelInfer(request, timeout=TIMEOUT)
                break
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert time.monotonic() < deadline, "the slot was never given back"
                time.sleep(0.05)
    assert contents_columns(answer)["cluster"] == ["culinary"]


def test_messages_count_against_the_in_flight_bytes_shared_with_http(make_server: Any) -> None:
    server = make_server(max_inflight_bytes="300")
    small = _infer(inputs=[bytes_input("title", [b"kopi"])])
    large = _infer(inputs=[bytes_input("title", [b"kemeja batik " * 30])])
    assert len(large.SerializeToString()) > 300 > len(small.SerializeToString())
    with grpc.insecure_channel(server.target) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        assert contents_columns(stub.ModelInfer(small, timeout=TIMEOUT))["cluster"] == ["culinary"]
        code, details = code_of(lambda: stub.ModelInfer(large, timeout=TIMEOUT))
    assert code == grpc.StatusCode.UNAVAILABLE
    assert details == "this worker holds too many requests; retry shortly"


def test_without_a_model_infer_is_unavailable_and_health_not_serving(
    make_server: Any, tmp_path: Path
) -> None:
    server = make_server(ready=False, model_dir=str(tmp_path / "missing"), require_model="false")
    with grpc.insecure_channel(server.target) as channel:
        grpc.channel_ready_future(channel).result(timeout=60)
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        request = _infer(inputs=[bytes_input("title", [b"kopi"])])
        code, details = code_of(lambda: stub.ModelInfer(request, timeout=TIMEOUT))
        assert code == grpc.StatusCode.UNAVAILABLE
        assert details.startswith("no model is loaded: MODEL_STORE_ERROR")
        assert stub.ServerLive(pb.ServerLiveRequest(), timeout=TIMEOUT).live
        assert not stub.ServerReady(pb.ServerReadyRequest(), timeout=TIMEOUT).ready
        assert not stub.ModelReady(pb.ModelReadyRequest(name=MODEL), timeout=TIMEOUT).ready
        answer = health.Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT)
        assert answer.status == health_pb2.HealthCheckResponse.NOT_SERVING


def test_rpcs_are_counted_and_logged_as_http_requests_are(
    grpc_server: GrpcServer, stub: service_pb2_grpc.GRPCInferenceServiceStub
) -> None:
    request = _infer(id="log-me", inputs=[bytes_input("title", [b"kopi", b"kemeja batik"])])
    metadata = (("x-request-id", "req-grpc-42"),)
    stub.ModelInfer(request, metadata=metadata, timeout=TIMEOUT)
    code_of(lambda: stub.ModelInfer(_infer(model_name="other"), timeout=TIMEOUT))
    metrics = httpx.get(f"{grpc_server.url}/metrics").text
    route = "/inference.GRPCInferenceService/ModelInfer"
    assert f'akar_http_requests_total{{method="GRPC",route="{route}",status="200"}}' in metrics
    assert f'akar_http_requests_total{{method="GRPC",route="{route}",status="404"}}' in metrics
    deadline = time.monotonic() + TIMEOUT
    while not any(line.get("request_id") == "req-grpc-42" for line in grpc_server.log_lines()):
        assert time.monotonic() < deadline, "no log line for the RPC"
        time.sleep(0.1)
    [line] = [x for x in grpc_server.log_lines() if x.get("request_id") == "req-grpc-42"]
    assert {k: line[k] for k in ("method", "route", "status", "grpc_status", "listings")} == {
        "method": "GRPC",
        "route": route,
        "status": 200,
        "grpc_status": "OK",
        "listings": 2,
    }
    assert line["model_version"] == "akar-1.8.0"


def test_a_reload_swaps_what_grpc_and_http_serve(make_server: Any, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: first\n")
    server = make_server(policy_path=str(policy))
    request = _infer(inputs=[bytes_input("title", [b"kopi"])])
    with grpc.insecure_channel(server.target) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        answer = stub.ModelInfer(request, timeout=TIMEOUT)
        assert answer.parameters["policy_version"].string_param == "first"
        policy.write_text("version: second\n")
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + TIMEOUT
        while httpx.get(f"{server.url}/v1/policy").json()["version"] != "second":
            assert time.monotonic() < deadline, "policy not reloaded"
            time.sleep(0.1)
        answer = stub.ModelInfer(request, timeout=TIMEOUT)
    assert answer.parameters["policy_version"].string_param == "second"


def test_sigterm_turns_grpc_health_off_then_stops_with_http(make_server: Any) -> None:
    server = make_server(shutdown_drain_seconds="5")  # room for a busy machine
    with grpc.insecure_channel(server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        server.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + TIMEOUT
        while (
            health.Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT).status
            == health_pb2.HealthCheckResponse.SERVING
        ):
            assert time.monotonic() < deadline, "health still SERVING after SIGTERM"
            time.sleep(0.05)
        # Draining: not ready, still answering.
        answer = stub.ModelInfer(_infer(inputs=[bytes_input("title", [b"kopi"])]), timeout=TIMEOUT)
        assert contents_columns(answer)["cluster"] == ["culinary"]
    assert server.proc.wait(timeout=60) == 0


def listening_sockets(port: int) -> int:
    """Listening TCP sockets on `port` (Linux's /proc/net/tcp): one per process with
    SO_REUSEPORT."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            count += int(local.rsplit(":", 1)[1], 16) == port and state == "0A"
    return count


def test_every_worker_serves_grpc_on_the_one_port(make_server: Any) -> None:
    server = make_server(workers=2)
    deadline = time.monotonic() + 60
    while listening_sockets(server.grpc_port) < 2:  # the second worker may still be loading
        assert time.monotonic() < deadline, "not every worker listens on the gRPC port"
        time.sleep(0.1)
    request = _infer(inputs=[bytes_input("title", [b"kopi"])])
    # Each new channel is a new connection, which the kernel hands to either worker.
    for _ in range(20):
        with grpc.insecure_channel(server.target) as channel:
            stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
            answer = stub.ModelInfer(request, timeout=TIMEOUT)
            assert contents_columns(answer)["cluster"] == ["culinary"]
    assert listening_sockets(server.grpc_port) == 2
