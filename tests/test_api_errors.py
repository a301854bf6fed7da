"""The one error map (app/api_errors.py): statuses for the domain's errors, shapes per API."""

from __future__ import annotations

import pytest

from app import errors
from app.api_errors import error_body, headers_of, status_of


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.BadInferenceRequestError, 400),
        (errors.UnauthorizedError, 401),
        (errors.ForbiddenError, 403),
        (errors.ModelNotFoundError, 404),
        (errors.NotReadyError, 503),
        (errors.OverloadedError, 503),
        (errors.ModelStoreError, 500),
        (errors.PolicyError, 500),
        (errors.ReloadError, 500),
        (errors.AkarError, 500),
    ],
)
def test_each_domain_error_has_its_status(error: type[errors.AkarError], status: int) -> None:
    assert status_of(error("x")) == status


def test_a_missing_key_asks_for_a_bearer_token() -> None:
    assert headers_of(errors.UnauthorizedError("x")) == {"WWW-Authenticate": "Bearer"}
    assert headers_of(errors.ForbiddenError("x")) is None


def test_an_overloaded_worker_says_when_to_retry() -> None:
    assert headers_of(errors.OverloadedError("x")) == {"Retry-After": "1"}


def test_each_api_has_its_shape() -> None:
    assert error_body("/v1/screen", "NOT_READY", "no model") == {
        "code": "NOT_READY",
        "detail": "no model",
    }
    assert error_body("/v2/models/akar-gate/infer", "NOT_READY", "no model") == {
        "error": "no model"
    }
    assert error_body("/v2", "X", ["a"]) == {"error": "['a']"}  # the protocol's error is text
    assert error_body("/v2x", "X", "d") == {"code": "X", "detail": "d"}  # not under /v2
