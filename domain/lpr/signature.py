"""The generic sender's signature: HMAC-SHA256 over ``timestamp + "." + body`` with the camera's secret.

A timestamp far from the server's clock is refused, so a captured delivery
cannot be replayed later; a replay inside the window is refused by the
signature's uniqueness (storage/lpr_events.py ``seen_signature``).
"""

from __future__ import annotations

import hashlib
import hmac

from domain.lpr.reads import BadEvent

SIGNATURE_WINDOW_S = 300


class BadSignature(BadEvent):
    """The sender is not who it claims (signature or timestamp wrong); answered with 401."""


def verify_signature(secret: bytes, timestamp: str, body: bytes, signature: str, now: float,
                     window_s: int = SIGNATURE_WINDOW_S) -> None:
    """``X-Signature`` = hex HMAC-SHA256 of ``timestamp + "." + raw body``; ``X-Timestamp`` within ±window."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        raise BadSignature("X-Timestamp must be Unix seconds") from None
    if abs(now - sent) > window_s:
        raise BadSignature(f"X-Timestamp is more than {window_s} s away from the server's clock")
    expected = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, (signature or "").strip().lower()):
        raise BadSignature("bad signature")
