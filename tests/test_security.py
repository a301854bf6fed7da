from __future__ import annotations

import hashlib

import pytest

from app.errors import ForbiddenError, UnauthorizedError
from app.security import KeyRing


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


RING = KeyRing([sha("screen-key")], [sha("admin-key")])


def test_no_keys_configured_means_screening_is_open() -> None:
    KeyRing([], []).check(None)


def test_no_keys_configured_still_closes_admin() -> None:
    with pytest.raises(UnauthorizedError):
        KeyRing([], []).check(None, admin=True)
    with pytest.raises(ForbiddenError):
        KeyRing([], []).check("Bearer anything", admin=True)


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer   ", "Basic c2NyZWVuLWtleQ==", "screen-key"]
)
def test_a_missing_or_malformed_key_is_401(header: str | None) -> None:
    with pytest.raises(UnauthorizedError):
        RING.check(header)


def test_an_unknown_key_is_403() -> None:
    with pytest.raises(ForbiddenError):
        RING.check("Bearer not-a-key")


def test_screening_and_admin_keys_may_screen() -> None:
    RING.check("Bearer screen-key")
    RING.check("bearer admin-key")


def test_only_admin_keys_have_admin_scope() -> None:
    RING.check("Bearer admin-key", admin=True)
    with pytest.raises(ForbiddenError):
        RING.check("Bearer screen-key", admin=True)
