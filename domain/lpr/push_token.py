"""The URL token of vendor pushes: issued once, stored only as its SHA-256.

The token is 192 random bits, so a plain SHA-256 is enough (a slow password hash protects guessable secrets;
nobody can guess 192 bits): a database copy gives no usable token, and a push is still found with one indexed
lookup by hash.
"""

from __future__ import annotations

import hashlib
import secrets

MAX_TOKEN = 100  # characters; a longer path segment is not a token we issued


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
