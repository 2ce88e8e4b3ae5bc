"""Secrets kept in PostgreSQL (RTSP passwords, LPR HMAC secrets) sealed with a key PostgreSQL never sees.

A sealed value is ``sealed:<key id>:<base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag)>``. The key is derived from
the deployment's master secret (``Settings.key("data-at-rest")``), so a copy of the database — a dump, a backup,
a read-only SQL injection — holds no usable password. The key id (a fingerprint of the key, not the key) says
which key sealed a value: after the master secret changes, the previous secrets still open old values, and the
start-up pass (services/seal_at_rest.py) seals them again with the current key.

Each value is bound to what it is for (``context``: the column and the row id) as GCM's associated data, so a
sealed value copied into another row or column does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.settings import Settings

PREFIX = "sealed:"
KEY_PURPOSE = "data-at-rest"
_NONCE_BYTES = 12  # GCM's standard nonce; random per value (2^32 values per key is far away)


class Unsealable(ValueError):
    """A value that is not sealed, was sealed with a key this deployment does not hold, or was tampered with."""


def key_id(key: bytes) -> str:
    """A short public fingerprint of a key: which key sealed a value, without revealing the key."""
    return hashlib.sha256(b"gtvision-key-id:" + key).hexdigest()[:8]


class Sealer:
    """Seals with the current key; opens with the current key or any previous one."""

    def __init__(self, current: bytes, previous: Iterable[bytes] = ()) -> None:
        self.current_id = key_id(current)
        self._keys = {key_id(k): AESGCM(k) for k in (*previous, current)}

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._keys[self.current_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}{self.current_id}:{base64.urlsafe_b64encode(sealed).decode()}"

    def open(self, sealed: str, context: str) -> str:
        kid, blob = _parts(sealed)
        aead = self._keys.get(kid)
        if aead is None:
            raise Unsealable(f"sealed with key {kid}, which this deployment does not hold (was the secret changed"
                             " without keeping the previous one in GTVISION_PREVIOUS_SECRETS?)")
        try:
            return aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], context.encode()).decode()
        except InvalidTag:
            raise Unsealable("the sealed value does not open: altered, or sealed for another row") from None

    def is_current(self, sealed: str) -> bool:
        """Whether the value is sealed with the current key (else the start-up pass seals it again)."""
        return sealed.startswith(f"{PREFIX}{self.current_id}:")


def sealer_for(settings: Settings) -> Sealer:
    """The deployment's sealer: the key derived from its master secret, and those of the previous secrets."""
    return Sealer(settings.key(KEY_PURPOSE), settings.previous_keys(KEY_PURPOSE))


def _parts(sealed: str) -> tuple[str, bytes]:
    if not sealed.startswith(PREFIX):
        raise Unsealable("the value is not sealed")
    kid, _, text = sealed[len(PREFIX):].partition(":")
    try:
        blob = base64.urlsafe_b64decode(text.encode())
    except (binascii.Error, ValueError):
        raise Unsealable("the sealed value is not base64") from None
    if len(blob) < _NONCE_BYTES + 16:
        raise Unsealable("the sealed value is truncated")
    return kid, blob


def camera_password_context(camera_id: object) -> str:
    return f"cameras.rtsp_password:{camera_id}"


def lpr_secret_context(camera_id: object) -> str:
    return f"cameras.lpr_secret:{camera_id}"
