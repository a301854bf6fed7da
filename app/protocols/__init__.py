"""The Open Inference Protocol without a transport: tensors to listings and results to tensors
(`inference`), and the binary tensor data extension's framing (`binary`). The REST routes and
the gRPC service both use them; nothing here imports FastAPI or grpc."""
