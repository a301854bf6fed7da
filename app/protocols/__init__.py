"""The answers' wire forms without a transport: the `/v1` JSON rows from screening columns
(`rows`); the Open Inference Protocol's tensors to listings and results to tensors
(`inference`), and its binary tensor data extension's framing (`binary`). The REST routes and
the gRPC service use them; nothing here imports FastAPI or grpc."""
