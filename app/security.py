"""API keys: only their SHA-256 hashes are configured; keys are compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from app.errors import ForbiddenError, UnauthorizedError


class KeyRing:
    """The configured key hashes. Without API keys screening is open (a private network's
    choice); the admin scope always needs one of the admin keys."""

    def __init__(self, api_key_sha256: Sequence[str], admin_key_sha256: Sequence[str]) -> None:
        self._api = tuple(bytes.fromhex(h) for h in api_key_sha256)
        self._admin = tuple(bytes.fromhex(h) for h in admin_key_sha256)

    @property
    def enabled(self) -> bool:
        """Whether screening needs a key."""
        return bool(self._api)

    @staticmethod
    def _matches(digest: bytes, hashes: Sequence[bytes]) -> bool:
        # Every hash is compared, so timing says nothing about which (or whether one) matched.
        found = False
        for h in hashes:
            found |= hmac.compare_digest(digest, h)
        return found

    def check(self, authorization: str | None, *, admin: bool = False) -> None:
        """Raises 401 without a bearer key, 403 with a key lacking the scope; else returns."""
        if not self.enabled and not admin:
            return
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise UnauthorizedError("send 'Authorization: Bearer <key>'")
        digest = hashlib.sha256(key.strip().encode()).digest()
        if self._matches(digest, self._admin):
            return
        if not admin and self._matches(digest, self._api):
            return
        raise ForbiddenError("this key is not allowed here" if admin else "unknown API key")
