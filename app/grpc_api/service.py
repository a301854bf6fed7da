"""The RPCs of `inference.GRPCInferenceService` and `grpc.health.v1.Health`.

Each RPC is answered as its HTTP twin under /v2 is: the same model, keys, screener and
errors, which leave as gRPC status codes (a 400 as INVALID_ARGUMENT, 401 UNAUTHENTICATED,
403 PERMISSION_DENIED, 404 NOT_FOUND, 503 UNAVAILABLE). Requests reach the handlers as bytes
and are parsed here, so a message that is not one is INVALID_ARGUMENT, not grpc's INTERNAL.
Every RPC is counted in the request metrics (method "GRPC", route the RPC's full name) and
logged as HTTP requests are, one JSON line each.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from app.api_errors import status_of
from app.errors import AkarError, BadInferenceRequestError, ModelNotFoundError, OverloadedError
from app.grpc_api import convert
from app.grpc_api.proto import open_inference_pb2 as pb
from app.middleware import InflightBytes
from app.observability.access import (
    CLIENT_CLOSED,
    REQUEST_ID_HEADER,
    RequestRecord,
    current_request,
    log_request,
    request_id_or_new,
)
from app.observability.hooks import ScreeningObserver
from app.observability.logs import configure_access_logger
from app.observability.metrics import Metrics
from app.protocols.inference import (
    INPUTS,
    MODEL_NAME,
    OUTPUTS,
    PLATFORM,
    known_model,
    listings_from,
    outputs_of,
    select,
)
from app.schemas import Listing
from app.schemas_v2 import InferenceRequest, InferenceResponse
from app.screening.screener import Screener
from app.state import ServiceState

logger = logging.getLogger("akar_gate")

SERVICE = "inference.GRPCInferenceService"
SERVER_VERSION = "1.0.0"
# Up to this many listings are screened on the event loop (as /v1/screen does: less CPU than
# the hop to a thread); larger batches go to a thread, so the loop serves others meanwhile.
INLINE_LISTINGS = 8
# How often an open grpc.health.v1 Watch looks at the status.
WATCH_POLL_SECONDS = 1.0
STATUS_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}

Handler = Callable[[Any], Awaitable[Message]]


class InferenceService:
    """`inference.GRPCInferenceService` over the process's ServiceState."""

    def __init__(
        self,
        state: ServiceState,
        metrics: Metrics,
        *,
        log_listing_text: bool,
        log_level: str = "info",
        inflight: InflightBytes | None = None,
    ) -> None:
        self.state = state
        # The worker's bound on request bytes held at once, shared with HTTP's bodies.
        self.inflight = inflight if inflight is not None else InflightBytes(2**63)
        self.metrics = metrics
        self.observe = ScreeningObserver(metrics, state)
        self._follow_ups: set[asyncio.Task[None]] = set()
        self.log_listing_text = log_listing_text
        self.logger = configure_access_logger(log_level)

    def handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[type[Message], Handler, bool]] = {
            # name: (request type, handler, needs an API key), as /v2's routes
            "ServerLive": (pb.ServerLiveRequest, self.server_live, False),
            "ServerReady": (pb.ServerReadyRequest, self.server_ready, False),
            "ModelReady": (pb.ModelReadyRequest, self.model_ready, False),
            "ServerMetadata": (pb.ServerMetadataRequest, self.server_metadata, False),
            "ModelMetadata": (pb.ModelMetadataRequest, self.model_metadata, True),
            "ModelInfer": (pb.ModelInferRequest, self.model_infer, True),
        }
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                name: grpc.unary_unary_rpc_method_handler(
                    self._rpc(name, request_type, handle, needs_key),
                    request_deserializer=None,  # bytes: parsed in _rpc, errors ours
                    response_serializer=_serialize,
                )
                for name, (request_type, handle, needs_key) in methods.items()
            },
        )

    def _rpc(
        self, name: str, request_type: type[Message], handle: Handler, needs_key: bool
    ) -> Callable[[bytes, grpc.aio.ServicerContext[Any, Any]], Awaitable[Message]]:
        route = f"/{SERVICE}/{name}"

        async def rpc(raw: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Message:
            metadata = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
            record = RequestRecord(request_id_or_new(metadata.get(REQUEST_ID_HEADER)))
            trailer = ((REQUEST_ID_HEADER, record.request_id),)
            context.set_trailing_metadata(trailer)
            token = current_request.set(record)
            self.metrics.in_flight.inc()
            status, code = 200, grpc.StatusCode.OK
            start = time.perf_counter()
            self.inflight.held += len(raw)
            try:
                if self.inflight.over:
                    raise OverloadedError("this worker holds too many requests; retry shortly")
                if needs_key:
                    self.state.keys.check(metadata.get("authorization"))
                try:
                    request = request_type.FromString(raw)
                except DecodeError as exc:
                    raise BadInferenceRequestError(
                        f"not a {request_type.DESCRIPTOR.name} message: {exc}"
                    ) from exc
                response = await handle(request)
                if record.after:
                    # What the answer does not need (the challenger, drift) runs once it is
                    # sent, as after an HTTP answer.
                    task = asyncio.create_task(_follow_up(record.after, record.listings))
                    self._follow_ups.add(task)
                    task.add_done_callback(self._follow_ups.discard)
                return response
            except AkarError as exc:
                status = status_of(exc)
                code = STATUS_CODES.get(status, grpc.StatusCode.INTERNAL)
                if status >= 500 and code == grpc.StatusCode.INTERNAL:
                    logger.error("rpc failed: %s: %s", exc.code, exc)
                await context.abort(code, str(exc), trailer)
            except asyncio.CancelledError:
                status, code = CLIENT_CLOSED, grpc.StatusCode.CANCELLED
                raise
            except Exception:
                status, code = 500, grpc.StatusCode.INTERNAL
                logger.exception("rpc %s failed", route)
                await context.abort(code, "internal server error", trailer)
            finally:
                elapsed = time.perf_counter() - start
                self.inflight.held -= len(raw)
                self.metrics.in_flight.dec()
                current_request.reset(token)
                labels = ("GRPC", route, str(status))
                self.metrics.requests.labels(*labels).inc()
                self.metrics.latency.labels(*labels).observe(elapsed)
                log_request(
                    self.logger,
                    record,
                    method="GRPC",
                    route=route,
                    path=route,
                    status=status,
                    elapsed=elapsed,
                    log_listing_text=self.log_listing_text,
                    extra={"grpc_status": code.name},
                )
            raise AssertionError("unreachable: abort raises")  # pragma: no cover

        return rpc

    async def server_live(self, request: pb.ServerLiveRequest) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=True)

    async def server_ready(self, request: pb.ServerReadyRequest) -> pb.ServerReadyResponse:
        return pb.ServerReadyResponse(ready=self.state.ready_reason is None)

    async def model_ready(self, request: pb.ModelReadyRequest) -> pb.ModelReadyResponse:
        known_model(request.name)
        screener = self.state.screener
        ready = self.state.ready_reason is None and screener is not None
        if ready and request.version and screener is not None:
            ready = request.version == screener.model_version
        return pb.ModelReadyResponse(ready=ready)

    async def server_metadata(self, request: pb.ServerMetadataRequest) -> pb.ServerMetadataResponse:
        # binary_tensor_data is REST's: gRPC has raw_input_contents instead.
        return pb.ServerMetadataResponse(name=MODEL_NAME, version=SERVER_VERSION, extensions=[])

    async def model_metadata(self, request: pb.ModelMetadataRequest) -> pb.ModelMetadataResponse:
        name = known_model(request.name)
        screener = self.state.screener
        if screener is not None:
            _check_version(request.version, screener)
        versions = [screener.model_version] if screener is not None else []
        return convert.metadata_message(name, versions, PLATFORM, INPUTS, OUTPUTS)

    async def model_infer(self, request: pb.ModelInferRequest) -> pb.ModelInferResponse:
        name = known_model(request.model_name)
        screener = self.state.require()
        _check_version(request.model_version, screener)
        decoded = convert.request_from(request)
        listings = listings_from(decoded.inputs)
        raw = bool(request.raw_input_contents)
        if len(listings) <= INLINE_LISTINGS:
            return self._infer(name, screener, decoded, listings, raw)
        return await asyncio.to_thread(self._infer, name, screener, decoded, listings, raw)

    def _infer(
        self,
        name: str,
        screener: Screener,
        request: InferenceRequest,
        listings: Sequence[Listing],
        raw: bool,
    ) -> pb.ModelInferResponse:
        results = screener.screen(listings)
        self.observe(listings, results, batch=True)
        answer = InferenceResponse(
            model_name=name,
            model_version=screener.model_version,
            id=request.id if request.id is not None else uuid.uuid4().hex,
            parameters={
                "policy_version": screener.policy.version,
                "policy_mode": screener.policy.mode,
            },
            outputs=select(outputs_of(results), request.outputs),
        )
        return convert.response_message(answer, raw=raw)


async def _follow_up(work: list[Callable[[], None]], listings: int) -> None:
    def run() -> None:
        for job in work:
            try:
                job()
            except Exception:
                logger.exception("after-answer work failed")

    await asyncio.sleep(0)  # let the answer go first
    if listings <= INLINE_LISTINGS:
        run()
    else:
        await asyncio.to_thread(run)


def _check_version(version: str, screener: Screener) -> None:
    if version and version != screener.model_version:
        raise ModelNotFoundError(
            f"model '{MODEL_NAME}' version '{version}' is not served; '{screener.model_version}' is"
        )


def _serialize(message: Message) -> bytes:
    data: bytes = message.SerializeToString()
    return data


class Health(health_pb2_grpc.HealthServicer):  # type: ignore[misc]
    """`grpc.health.v1`: SERVING while the process can screen (as /readyz), for the server
    ("") and for the inference service by name; NOT_SERVING without a model or once a SIGTERM
    has started the drain."""

    SERVICES = ("", SERVICE)

    def __init__(self, state: ServiceState) -> None:
        self.state = state

    def _status(self) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
        if self.state.ready_reason is None:
            return health_pb2.HealthCheckResponse.SERVING
        return health_pb2.HealthCheckResponse.NOT_SERVING

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> health_pb2.HealthCheckResponse:
        if request.service not in self.SERVICES:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=self._status())

    async def Watch(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[health_pb2.HealthCheckResponse]:
        """The status now, then each change (checked every WATCH_POLL_SECONDS); an unknown
        service is SERVICE_UNKNOWN, as the protocol asks. The stream ends with NOT_SERVING once
        the drain has started, so that open watches never hold up the shutdown."""
        last = None
        while True:
            draining = self.state.shutting_down.is_set()  # read first: the status then shows it
            if request.service not in self.SERVICES:
                status = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
            else:
                status = self._status()
            if status != last:
                yield health_pb2.HealthCheckResponse(status=status)
                last = status
            if draining:
                return
            await asyncio.sleep(WATCH_POLL_SECONDS)
