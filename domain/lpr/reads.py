"""A plate read in the one normalized shape every sender's payload becomes, and the field rules they share.

Parsing is pure: the tenant and camera come from the URL the sender posts to,
not from the payload. Every refusal is a ``BadEvent`` whose message says what
is wrong (answered with a 4xx).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.lpr.plates import BadPlate, normalize

MAX_IMAGES = 4


class BadEvent(ValueError):
    """The payload is not a plate read we can store (the message says why); answered with a 4xx."""


@dataclass(frozen=True)
class PlateRead:
    plate: str  # canonical (domain/lpr/plates.py)
    captured_at: datetime  # UTC
    confidence: float | None = None  # 0–100
    direction: str | None = None  # approaching | leaving | None
    vehicle_color: str | None = None
    vehicle_type: str | None = None
    images: tuple[bytes, ...] = ()
    vendor_event_id: str | None = None

    def dedupe_key(self, camera_id: object) -> str:
        """Two deliveries of one read share this: the vendor's event id, else camera + plate + instant."""
        if self.vendor_event_id:
            return f"{camera_id}:id:{self.vendor_event_id}"
        return f"{camera_id}:{self.plate}:{round(self.captured_at.timestamp() * 1000)}"


def plate_field(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadEvent("the event has no plate")
    try:
        return normalize(raw)
    except BadPlate as exc:
        raise BadEvent(str(exc)) from None


def confidence_field(raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise BadEvent(f"confidence {raw!r} is not a number") from None
    if value <= 1.0 and isinstance(raw, float):
        value *= 100  # a 0–1 score
    if not 0 <= value <= 100:
        raise BadEvent(f"confidence {raw!r} is outside 0–100")
    return round(value, 2)


def direction_field(raw: Any) -> str | None:
    text = str(raw or "").strip().lower()
    if text in ("approach", "approaching", "forward", "obverse", "in", "entering", "toward"):
        return "approaching"
    if text in ("leave", "leaving", "reverse", "backward", "out", "exiting", "away"):
        return "leaving"
    return None


def image_field(raw: Any) -> bytes:
    try:
        return base64.b64decode(str(raw), validate=True)
    except (binascii.Error, ValueError):
        raise BadEvent("an image is not valid base64") from None


def instant_field(raw: Any, what: str) -> datetime:
    try:
        instant = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise BadEvent(f"{what} {raw!r} is not an ISO 8601 instant") from None
    if instant.tzinfo is None:
        raise BadEvent(f"{what} {raw!r} has no time zone offset")
    return instant.astimezone(UTC)


def json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadEvent(f"malformed JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadEvent("the JSON body must be an object")
    return document


def text_field(value: Any) -> str | None:
    return str(value).strip() or None if value not in (None, "") else None
