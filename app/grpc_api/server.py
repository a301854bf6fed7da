"""The grpc.aio server of one worker: started in the app's lifespan after the model is loaded,
stopped after HTTP has drained (readiness already off since the SIGTERM)."""

from __future__ import annotations

import logging

import grpc
from grpc_health.v1 import health_pb2_grpc

from app.config import Settings
from app.grpc_api.service import Health, InferenceService
from app.middleware import InflightBytes
from app.observability.metrics import Metrics
from app.state import ServiceState

logger = logging.getLogger("akar_gate")

# Seconds in-flight RPCs get to finish once the server stops taking new ones.
STOP_GRACE_SECONDS = 10.0


async def start(
    state: ServiceState, metrics: Metrics, settings: Settings, inflight: InflightBytes
) -> grpc.aio.Server:
    """Serves gRPC on `grpc_host:grpc_port`. Each worker binds the same port (SO_REUSEPORT,
    grpc's default on Linux) and the kernel spreads connections over them, as for HTTP."""
    server = grpc.aio.server(
        # Calls past it get RESOURCE_EXHAUSTED from grpc itself. So the messages a worker holds
        # are bounded twice: this many still arriving, each at most max_receive_message_length,
        # and the received ones by the in-flight bytes shared with HTTP (InferenceService).
        maximum_concurrent_rpcs=settings.grpc_max_concurrent_rpcs,
        options=[
            # A message over the HTTP body limit is RESOURCE_EXHAUSTED, refused by grpc itself.
            ("grpc.max_receive_message_length", settings.max_body_bytes),
            ("grpc.so_reuseport", 1),
        ],
    )
    service = InferenceService(
        state,
        metrics,
        log_listing_text=settings.log_listing_text,
        log_level=settings.log_level,
        inflight=inflight,
    )
    server.add_generic_rpc_handlers((service.handler(),))
    health_pb2_grpc.add_HealthServicer_to_server(Health(state), server)
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    server.add_insecure_port(address)  # raises when the address cannot be bound
    await server.start()
    logger.info("gRPC serving on %s", address)
    return server


async def stop(server: grpc.aio.Server) -> None:
    await server.stop(STOP_GRACE_SECONDS)
