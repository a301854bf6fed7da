"""The domain's errors: what went wrong, as a machine-readable `code` and a message for people.
No transport here: app/api_errors.py maps them to HTTP statuses and each API's error shape,
app/grpc_api/service.py to gRPC status codes (from the same HTTP status)."""

from __future__ import annotations


class AkarError(Exception):
    """Base of every domain error; `code` is machine-readable, the message is for people."""

    code = "INTERNAL_ERROR"
    headers: dict[str, str] | None = None


class ModelStoreError(AkarError):
    """A model artifact is missing, damaged, or was made by another scikit-learn version."""

    code = "MODEL_STORE_ERROR"


class PolicyError(AkarError):
    """A policy file cannot be read or is not a valid policy."""

    code = "POLICY_ERROR"


class NotReadyError(AkarError):
    """No model or policy is loaded yet, so nothing can be screened."""

    code = "NOT_READY"


class UnauthorizedError(AkarError):
    """No API key was presented where one is required."""

    code = "UNAUTHORIZED"


class ForbiddenError(AkarError):
    """The presented key is unknown or lacks the scope."""

    code = "FORBIDDEN"


class OverloadedError(AkarError):
    """The worker holds as many request bytes as it may (`AKAR_MAX_INFLIGHT_BYTES`)."""

    code = "OVERLOADED"


class ReloadError(AkarError):
    """A reload failed; the previous model and policy keep serving."""

    code = "RELOAD_FAILED"


class ModelNotFoundError(AkarError):
    """An Open Inference Protocol (v2) request names a model this server does not serve."""

    code = "MODEL_NOT_FOUND"


class BadInferenceRequestError(AkarError):
    """A v2 inference request whose tensors this model cannot take (names, types, shapes)."""

    code = "BAD_INFERENCE_REQUEST"
