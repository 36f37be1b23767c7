"""Accounts: tokens are kept as salted hashes and compared in constant time, never logged."""

from __future__ import annotations

import hashlib
import hmac
import secrets

#: Prefixes accepted in ``Authorization``: the Hubble client sends ``token <TOKEN>``.
_SCHEMES = ("token", "bearer")


def hash_token(token: str, *, salt: bytes | None = None) -> str:
    """``salt$sha256(salt+token)`` in hex; tokens are random, so one round of SHA-256 suffices."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.sha256(salt + token.encode("utf-8")).hexdigest()
    return f"{salt.hex()}${digest}"


def token_matches(token: str, stored: str) -> bool:
    """Constant-time check of ``token`` against a ``hash_token`` value."""
    salt_hex, sep, _digest = stored.partition("$")
    if not sep:
        return False
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    return hmac.compare_digest(hash_token(token, salt=salt), stored)


def token_from_header(value: str | None) -> str | None:
    """The token in ``Authorization: token X`` (or ``Bearer X``), else None."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in _SCHEMES or not token:
        return None
    return token


def new_token() -> str:
    return secrets.token_urlsafe(24)
