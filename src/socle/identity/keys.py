"""API key material: generation, keyed hashing and display prefixes.

Keys are 32 random bytes, so a keyed hash (HMAC-SHA256 with the instance secret) is enough to make
a stolen database useless without the secret, and costs about a microsecond per request.
"""

from __future__ import annotations

import hmac
import secrets

KEY_PREFIX = "sk-socle-"
DISPLAY_LENGTH = len(KEY_PREFIX) + 6


def generate_key() -> str:
    """A new API key: ``sk-socle-`` followed by 43 URL-safe characters (32 random bytes)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(secret: bytes, key: str) -> str:
    """The keyed hash stored in the database and used as the cache key."""
    # hmac.digest is the one-shot C implementation: same value as hmac.new(...).hexdigest(),
    # without building an HMAC object (a few microseconds on every request).
    return hmac.digest(secret, key.encode("utf-8", "surrogatepass"), "sha256").hex()


def display_prefix(key: str) -> str:
    """The short, non-secret part shown in listings (e.g. ``sk-socle-Ab3dE9``)."""
    return key[:DISPLAY_LENGTH]


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and 20 <= len(value) <= 200
