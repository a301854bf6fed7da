"""The Python client against the real app (its lifespan running), through in-memory transports."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest
from fastapi.testclient import TestClient

from app.client import AkarAPIError, AkarClient, AsyncAkarClient
from app.schemas import BatchResult, Listing, ScreenResult

BLOCKED = {"listing_id": "L-1", "title": "kemeja batik", "origin_country": "CN"}


class ViaTestClient(httpx.BaseTransport):
    """Hands httpx requests to Starlette's TestClient, which runs the app in-process."""

    def __init__(self, app_client: TestClient) -> None:
        self.app_client = app_client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        r = self.app_client.request(
            request.method,
            request.url.raw_path.decode(),
            headers=[(k, v) for k, v in request.headers.items() if k != "host"],
            content=request.read(),
        )
        return httpx.Response(r.status_code, headers=r.headers.multi_items(), content=r.content)


class Flaky(httpx.BaseTransport):
    """Fails the first `failures` requests (a 503 answer or a connection error), then passes."""

    def __init__(self, inner: httpx.BaseTransport, failures: list[str]) -> None:
        self.inner, self.failures, self.calls = inner, list(failures), 0
        self.headers: list[httpx.Headers] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        self.headers.append(request.headers)
        if self.failures:
            failure = self.failures.pop(0)
            if failure == "503":
                return httpx.Response(503, json={"code": "NOT_READY", "detail": "draining"})
            raise {"connect": httpx.ConnectError, "read": httpx.ReadTimeout}[failure](
                failure, request=request
            )
        return self.inner.handle_request(request)


class AsyncFlaky(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, failures: list[str]) -> None:
        self.inner, self.failures, self.calls = inner, list(failures), 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.failures:
            failure = self.failures.pop(0)
            if failure == "503":
                return httpx.Response(503, json={"code": "NOT_READY", "detail": "draining"})
            raise httpx.ConnectError(failure, request=request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_akar(
    make_client: Callable[..., TestClient], sleeps: list[float]
) -> Callable[..., tuple[AkarClient, Flaky]]:
    def make(
        failures: tuple[str, ...] = (), settings: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[AkarClient, Flaky]:
        transport = Flaky(ViaTestClient(make_client(**(settings or {}))), list(failures))
        akar = AkarClient("http://akar", transport=transport, sleep=sleeps.append, **kwargs)
        return akar, transport

    return make


def test_screen_returns_the_response_model(make_akar: Any, client: TestClient) -> None:
    akar, _ = make_akar()
    result = akar.screen(BLOCKED)
    assert isinstance(result, ScreenResult)
    assert result.model_dump(mode="json") == client.post("/v1/screen", json=BLOCKED).json()
    assert (result.listing_id, result.decision, result.model_version) == ("L-1", "block", "tiny-1")


def test_screen_accepts_a_listing_model_and_sends_a_request_id(make_akar: Any) -> None:
    akar, transport = make_akar()
    result = akar.screen(Listing(title="keripik tempe"), request_id="trace-7")
    assert (result.decision, result.cluster and result.cluster.label) == ("allow", "culinary")
    assert transport.headers[0]["x-request-id"] == "trace-7"


def test_screen_batch_keeps_the_order(make_akar: Any) -> None:
    akar, _ = make_akar()
    batch = akar.screen_batch([{"title": "keripik tempe"}, BLOCKED, {"title": "charger 33w"}])
    assert isinstance(batch, BatchResult)
    assert [r.decision for r in batch.results] == ["allow", "block", "allow"]
    assert [r.cluster.label for r in batch.results if r.cluster] == [
        "culinary",
        "textile_fashion",
        "other",
    ]


def test_a_bad_listing_fails_before_it_is_sent(make_akar: Any) -> None:
    akar, transport = make_akar()
    with pytest.raises(pydantic.ValidationError):
        akar.screen({"title": "   "})
    with pytest.raises(pydantic.ValidationError):
        akar.screen_batch([{"title": "kopi"}] * 1001)
    assert transport.calls == 0


def test_a_503_is_retried_with_exponential_backoff(make_akar: Any, sleeps: list[float]) -> None:
    akar, transport = make_akar(failures=("503", "503"), backoff=0.1)
    assert akar.screen(BLOCKED).decision == "block"
    assert transport.calls == 3
    assert sleeps == [0.1, 0.2]


def test_a_connection_error_is_retried(make_akar: Any, sleeps: list[float]) -> None:
    akar, transport = make_akar(failures=("connect",), backoff=0.5)
    assert akar.screen(BLOCKED).decision == "block"
    assert (transport.calls, sleeps) == (2, [0.5])


def test_backoff_is_capped(make_akar: Any, sleeps: list[float]) -> None:
    akar, _ = make_akar(failures=("503",) * 4, retries=4, backoff=1.0, max_backoff=3.0)
    akar.screen(BLOCKED)
    assert sleeps == [1.0, 2.0, 3.0, 3.0]


def test_a_503_that_lasts_raises_after_the_retries(
    make_akar: Any, sleeps: list[float], tmp_path: Path
) -> None:
    akar, transport = make_akar(
        settings={"model_dir": tmp_path, "require_model": False}, retries=2, backoff=0.1
    )
    with pytest.raises(AkarAPIError) as exc:
        akar.screen(BLOCKED)
    assert (exc.value.status_code, exc.value.code) == (503, "NOT_READY")
    assert str(exc.value.detail).startswith("no model is loaded: MODEL_STORE_ERROR")
    assert (transport.calls, sleeps) == (3, [0.1, 0.2])


def test_a_connection_error_that_lasts_is_raised(make_akar: Any, sleeps: list[float]) -> None:
    akar, transport = make_akar(failures=("connect",) * 3, retries=2, backoff=0.1)
    with pytest.raises(httpx.ConnectError):
        akar.screen(BLOCKED)
    assert transport.calls == 3


def test_a_read_timeout_is_not_retried(make_akar: Any, sleeps: list[float]) -> None:
    akar, transport = make_akar(failures=("read",))
    with pytest.raises(httpx.ReadTimeout):
        akar.screen(BLOCKED)
    assert (transport.calls, sleeps) == (1, [])


@pytest.mark.parametrize(
    ("settings", "status", "code"),
    [
        ({"max_body_bytes": 50}, 413, "PAYLOAD_TOO_LARGE"),
        ({"api_key_sha256": [hashlib.sha256(b"k").hexdigest()]}, 401, "UNAUTHORIZED"),
    ],
)
def test_other_errors_raise_at_once(
    make_akar: Any, sleeps: list[float], settings: dict[str, Any], status: int, code: str
) -> None:
    akar, transport = make_akar(settings=settings)
    with pytest.raises(AkarAPIError) as exc:
        akar.screen(BLOCKED)
    assert (exc.value.status_code, exc.value.code) == (status, code)
    assert (transport.calls, sleeps) == (1, [])


def test_the_api_key_is_sent_as_a_bearer_token(make_akar: Any) -> None:
    settings = {"api_key_sha256": [hashlib.sha256(b"k").hexdigest()]}
    akar, transport = make_akar(settings=settings, api_key="k")
    assert akar.screen(BLOCKED).decision == "block"
    assert transport.headers[0]["authorization"] == "Bearer k"


def test_negative_retries_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        AkarClient(retries=-1)


@pytest.mark.anyio
async def test_the_async_client_screens_and_retries(client: TestClient) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = AsyncFlaky(httpx.ASGITransport(app=client.app), ["503", "connect"])
    async with AsyncAkarClient(
        "http://akar", transport=transport, sleep=sleep, backoff=0.25
    ) as akar:
        result = await akar.screen(BLOCKED, request_id="async-1")
        batch = await akar.screen_batch([{"title": "keripik tempe"}, BLOCKED])
    assert isinstance(result, ScreenResult)
    assert result.model_dump(mode="json") == client.post("/v1/screen", json=BLOCKED).json()
    assert [r.decision for r in batch.results] == ["allow", "block"]
    assert (transport.calls, sleeps) == (4, [0.25, 0.5])


@pytest.mark.anyio
async def test_the_async_client_raises_service_errors(make_client: Any, tmp_path: Path) -> None:
    app_client = make_client(model_dir=tmp_path, require_model=False)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = httpx.ASGITransport(app=app_client.app)
    async with AsyncAkarClient("http://akar", transport=transport, sleep=sleep, retries=1) as akar:
        with pytest.raises(AkarAPIError) as exc:
            await akar.screen_batch([BLOCKED])
    assert (exc.value.status_code, exc.value.code) == (503, "NOT_READY")
    assert sleeps == [0.2]
