"""Operations: Prometheus metrics, the per-request JSON log line and its request id.

Kept outside `app/screening` (the domain knows nothing of HTTP or Prometheus): routes hand
their results to `ScreeningObserver`, the ASGI middleware `AccessLog` times every request.
"""
