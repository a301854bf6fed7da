"""The Open Inference Protocol over gRPC: `GRPCInferenceService` and `grpc.health.v1`, served
by each worker beside HTTP from the same ServiceState (a reload swaps both at once).

`proto/` holds the protocol's .proto and the code generated from it (`make grpc-code`);
`convert` turns its messages into the protocol's models and back, `service` answers the RPCs,
`server` starts and stops the grpc.aio server in the app's lifespan. Imported only when
`AKAR_GRPC_PORT` is set: the generated messages claim the `inference.*` names in protobuf's
default descriptor pool, as tritonclient's and kserve's do, so a process holds one of them.
"""
