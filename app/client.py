"""A small Python client for akar-gate, sync (`AkarClient`) and async (`AsyncAkarClient`).

    with AkarClient("http://akar-gate", api_key="...") as akar:
        result = akar.screen({"title": "Kemeja Batik Pria", "ship_from": {"country": "CN"}})
        result.decision  # "block"

Answers are the service's own response models (`app.schemas`). Only what is safe to repeat
is retried: a 503 (no model loaded yet, or the instance is draining) and a failure to
connect, with exponential backoff. Anything else raises at once: `AkarAPIError` for an error
answer, httpx's exception for a timeout or a broken connection after sending.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel

from app.schemas import BatchRequest, BatchResult, Listing, ScreenResult

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=2.0)
RETRY_STATUS = 503
# Failures before the request reached the service, or before it answered anything.
CONNECTION_ERRORS: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.RemoteProtocolError,
)

ListingLike = Listing | Mapping[str, Any]
_R = TypeVar("_R", bound=BaseModel)


class AkarAPIError(Exception):
    """The service answered with an error: its status, `code` and `detail`."""

    def __init__(self, status_code: int, code: str, detail: Any) -> None:
        super().__init__(f"{status_code} {code}: {detail}")
        self.status_code = status_code
        self.code = code
        self.detail = detail


def _listing(listing: ListingLike) -> dict[str, Any]:
    """Validated here, so a bad listing fails before it is sent (pydantic.ValidationError)."""
    model = listing if isinstance(listing, Listing) else Listing.model_validate(listing)
    return model.model_dump(mode="json", exclude_none=True)


def _result(response: httpx.Response, model: type[_R]) -> _R:
    if response.is_success:
        return model.model_validate_json(response.content)
    try:
        body = response.json()
        code, detail = str(body["code"]), body["detail"]
    except (ValueError, KeyError, TypeError):
        code, detail = "HTTP_ERROR", response.text
    raise AkarAPIError(response.status_code, code, detail)


class _Options:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        timeout: httpx.Timeout | float,
        retries: int,
        backoff: float,
        max_backoff: float,
    ) -> None:
        if retries < 0 or backoff < 0:
            raise ValueError("retries and backoff must not be negative")
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self.client_args: dict[str, Any] = {
            "base_url": base_url,
            "timeout": timeout,
            "headers": headers,
        }

    def delay(self, attempt: int) -> float:
        """Seconds before retry number `attempt + 1`: backoff, 2 x backoff, 4 x ... capped."""
        return float(min(self.backoff * 2**attempt, self.max_backoff))


def _headers(request_id: str | None) -> dict[str, str]:
    return {"x-request-id": request_id} if request_id else {}


class AkarClient:
    """Synchronous client; use as a context manager, or call `close()`."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retries: int = 3,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._options = _Options(base_url, api_key, timeout, retries, backoff, max_backoff)
        self._http = httpx.Client(transport=transport, **self._options.client_args)
        self._sleep = sleep

    def screen(self, listing: ListingLike, *, request_id: str | None = None) -> ScreenResult:
        """POST /v1/screen: one listing."""
        response = self._post("/v1/screen", _listing(listing), request_id)
        return _result(response, ScreenResult)

    def screen_batch(
        self, listings: Sequence[ListingLike], *, request_id: str | None = None
    ) -> BatchResult:
        """POST /v1/screen/batch: 1 to 1,000 listings, results in the same order."""
        body = {"listings": [_listing(x) for x in listings]}
        BatchRequest.model_validate(body)  # the batch's size limits, before sending
        return _result(self._post("/v1/screen/batch", body, request_id), BatchResult)

    def _post(self, path: str, body: Any, request_id: str | None) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.post(path, json=body, headers=_headers(request_id))
            except CONNECTION_ERRORS:
                if attempt >= self._options.retries:
                    raise
            else:
                if response.status_code != RETRY_STATUS or attempt >= self._options.retries:
                    return response
            self._sleep(self._options.delay(attempt))
            attempt += 1

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncAkarClient:
    """Asynchronous client; use as an async context manager, or await `aclose()`."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retries: int = 3,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._options = _Options(base_url, api_key, timeout, retries, backoff, max_backoff)
        self._http = httpx.AsyncClient(transport=transport, **self._options.client_args)
        self._sleep = sleep

    async def screen(self, listing: ListingLike, *, request_id: str | None = None) -> ScreenResult:
        """POST /v1/screen: one listing."""
        response = await self._post("/v1/screen", _listing(listing), request_id)
        return _result(response, ScreenResult)

    async def screen_batch(
        self, listings: Sequence[ListingLike], *, request_id: str | None = None
    ) -> BatchResult:
        """POST /v1/screen/batch: 1 to 1,000 listings, results in the same order."""
        body = {"listings": [_listing(x) for x in listings]}
        BatchRequest.model_validate(body)
        return _result(await self._post("/v1/screen/batch", body, request_id), BatchResult)

    async def _post(self, path: str, body: Any, request_id: str | None) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._http.post(path, json=body, headers=_headers(request_id))
            except CONNECTION_ERRORS:
                if attempt >= self._options.retries:
                    raise
            else:
                if response.status_code != RETRY_STATUS or attempt >= self._options.retries:
                    return response
            await self._sleep(self._options.delay(attempt))
            attempt += 1

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
