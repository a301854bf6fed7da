from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Scope

from app.observability.logs import configure_access_logger

HEX32 = re.compile(r"[0-9a-f]{32}")
SECRET_TITLE = "Kemeja Batik Motif Rahasia"


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _access(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [x for x in _lines(capsys) if x["logger"] == "akar_gate.access"]


def test_each_request_logs_one_json_line(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    r = client.post(
        "/v1/screen",
        json={"title": "kemeja batik", "origin_country": "CN"},
        headers={"X-Request-ID": "req-42"},
    )
    assert r.status_code == 200
    assert r.headers["x-request-id"] == "req-42"
    [line] = _access(capsys)
    assert isinstance(line.pop("latency_ms"), float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line.pop("ts"))
    assert line == {
        "level": "INFO",
        "logger": "akar_gate.access",
        "message": "request",
        "request_id": "req-42",
        "method": "POST",
        "route": "/v1/screen",
        "path": "/v1/screen",
        "status": 200,
        "listings": 1,
        "decisions": {"block": 1},
        "model_version": "tiny-1",
        "policy_version": "akar-2021.1",
    }


def test_a_batch_logs_its_decisions_as_counts(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    listings = [{"title": "kemeja batik", "origin_country": "CN"}, {"title": "keripik tempe"}]
    listings += [{"title": "charger 33w"}]
    client.post("/v1/screen/batch", json={"listings": listings})
    [line] = _access(capsys)
    assert (line["route"], line["listings"]) == ("/v1/screen/batch", 3)
    assert line["decisions"] == {"block": 1, "allow": 2}


def test_a_request_id_is_made_when_none_is_sent(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    r = client.get("/healthz")
    assert HEX32.fullmatch(r.headers["x-request-id"])
    [line] = _access(capsys)
    assert line["request_id"] == r.headers["x-request-id"]
    assert (line["route"], line["status"], line["listings"], line["decisions"]) == (
        "/healthz",
        200,
        0,
        {},
    )
    assert line["model_version"] is None


@pytest.mark.parametrize("sent", ["has spaces", "x" * 129, "semi;colon", ""])
def test_an_unsafe_request_id_is_replaced(client: TestClient, sent: str) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": sent})
    assert HEX32.fullmatch(r.headers["x-request-id"])


def test_two_requests_get_two_ids(client: TestClient) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_error_answers_carry_the_request_id_and_are_logged(
    make_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    c = make_client(max_body_bytes=100)
    capsys.readouterr()
    r = c.post("/v1/screen", content=b"x" * 200, headers={"X-Request-ID": "too-big-1"})
    assert r.status_code == 413
    assert r.headers["x-request-id"] == "too-big-1"
    [line] = _access(capsys)
    assert (line["request_id"], line["status"], line["route"]) == ("too-big-1", 413, "unmatched")


def test_listing_text_is_not_logged_by_default(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    client.post("/v1/screen", json={"title": SECRET_TITLE, "description": "deskripsi rahasia"})
    out = capsys.readouterr().out
    assert "Rahasia" not in out
    assert "rahasia" not in out
    assert '"request_id"' in out


def test_listing_text_is_logged_when_the_debug_setting_asks(
    make_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    c = make_client(log_listing_text=True)
    capsys.readouterr()
    c.post("/v1/screen/batch", json={"listings": [{"title": SECRET_TITLE}, {"title": "kopi"}]})
    [line] = _access(capsys)
    assert line["titles"] == [SECRET_TITLE, "kopi"]


def test_shadow_mode_logs_the_would_be_decisions(
    make_client: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "shadow.yaml"
    policy.write_text("version: s1\nmode: shadow\n")
    c = make_client(policy_path=policy)
    capsys.readouterr()
    c.post("/v1/screen", json={"title": "kemeja batik", "origin_country": "CN"})
    [line] = _access(capsys)
    assert (line["decisions"], line["shadow_decisions"]) == ({"allow": 1}, {"block": 1})


def test_a_client_leaving_mid_body_is_counted_as_such_not_as_a_500(
    client: TestClient, capsys: pytest.CaptureFixture[str], scrape: Any
) -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b'{"title": "kem', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/screen",
        "raw_path": b"/v1/screen",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }

    async def call() -> None:  # asyncio.run takes a coroutine, not any awaitable
        await client.app(scope, receive, send)

    capsys.readouterr()
    asyncio.run(call())
    assert sent == []  # nobody to answer
    [line] = _access(capsys)
    assert (line["status"], line["level"], line["client_disconnected"]) == (499, "INFO", True)
    metrics = scrape(client)
    screen = {"method": "POST", "route": "unmatched"}
    assert metrics("akar_http_requests_total", **screen, status="499") == 1
    assert metrics("akar_http_requests_total", **screen, status="500") is None


def test_at_log_level_warning_only_server_errors_are_logged(
    make_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_client(log_level="warning", max_inflight_bytes=100)
    capsys.readouterr()
    try:
        assert client.post("/v1/screen", json={"title": "kemeja batik"}).status_code == 200
        shed = client.post("/v1/screen", json={"title": "kemeja batik pria " * 20})
        assert shed.status_code == 503
        assert [(x["level"], x["status"]) for x in _access(capsys)] == [("ERROR", 503)]
    finally:  # the access logger is the process's: the other tests' clients log at INFO
        configure_access_logger("info")
