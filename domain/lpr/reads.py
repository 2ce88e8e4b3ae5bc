"""A plate read in the one normalized shape every sender's payload becomes, and the field rules they share.

Parsing is pure: the tenant and camera come from the URL the sender posts to,
not from the payload, and the server's clock is an argument. Every refusal is a
``BadEvent`` whose message names the field and says what is wrong (answered
with a 4xx); every field is bounded (domain/lpr/bounds.py), so a read that is
acknowledged can be stored.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.lpr import bounds
from domain.lpr.bounds import MAX_NAME, OutOfBounds
from domain.lpr.plates import BadPlate, normalize


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


def shown(raw: Any, limit: int = 40) -> str:
    """A sender's value as an error message quotes it: repr (escapes control characters), cut short."""
    text = repr(raw)
    return text if len(text) <= limit else text[:limit] + "…"


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
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise BadEvent(f"confidence {shown(raw)} is not a number")
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise BadEvent(f"confidence {shown(raw)} is not a number") from None
    if value <= 1.0 and isinstance(raw, float):
        value *= 100  # a 0–1 score
    if not 0 <= value <= 100:  # NaN fails this too
        raise BadEvent(f"confidence {shown(raw)} is outside 0–100")
    return round(value, 2)


def direction_field(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    text = raw.strip().lower()
    if text in ("approach", "approaching", "forward", "obverse", "in", "entering", "toward"):
        return "approaching"
    if text in ("leave", "leaving", "reverse", "backward", "out", "exiting", "away"):
        return "leaving"
    return None


def image_field(raw: Any, index: int = 0) -> bytes:
    if not isinstance(raw, str):
        raise BadEvent(f"images[{index}] must be a base64 string")
    try:
        image = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise BadEvent(f"images[{index}]: an image is not valid base64") from None
    return image_bytes(image, index)


def image_bytes(image: bytes, index: int) -> bytes:
    try:
        return bounds.image_size(image, index)
    except OutOfBounds as exc:
        raise BadEvent(str(exc)) from None


def utc_instant(instant: datetime, what: str, now: datetime) -> datetime:
    """``instant`` in UTC, within the capture-time bounds (a time that overflows UTC is refused, not a 500)."""
    try:
        utc = instant.astimezone(UTC)
    except (OverflowError, ValueError):
        raise BadEvent(f"{what} {shown(instant.isoformat())} is out of range") from None
    try:
        return bounds.capture_time(utc, now, what)
    except OutOfBounds as exc:
        raise BadEvent(str(exc)) from None


def instant_field(raw: Any, what: str, now: datetime) -> datetime:
    """An ISO 8601 instant with its offset, in UTC and within the capture-time bounds."""
    if not isinstance(raw, str):
        raise BadEvent(f"{what} {shown(raw)} is not an ISO 8601 instant")
    try:
        instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadEvent(f"{what} {shown(raw)} is not an ISO 8601 instant") from None
    if instant.tzinfo is None:
        raise BadEvent(f"{what} {shown(raw)} has no time zone offset")
    return utc_instant(instant, what, now)


def json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except RecursionError:
        raise BadEvent("malformed JSON: nested too deeply") from None
    except ValueError as exc:  # not UTF-8, not JSON, or an integer of thousands of digits
        raise BadEvent(f"malformed JSON: {shown(str(exc), 200)}") from None
    if not isinstance(document, dict):
        raise BadEvent("the JSON body must be an object")
    return document


def object_field(document: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    """``document[key]`` when it is an object; {} when absent or empty; refused when it is something else."""
    value = document.get(key)
    if value in (None, "", {}, []):
        return {}
    if not isinstance(value, dict):
        raise BadEvent(f"{where}{key} must be an object")
    return value


def text_field(value: Any, field: str, max_length: int = MAX_NAME) -> str | None:
    """Free text a sender gives (a colour, a device id, an event id): a string or a number, bounded, printable."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadEvent(f"{field} must be a string")
    text = str(value).strip() if isinstance(value, str) else _number_text(value, field)
    if not text:
        return None
    try:
        return bounds.bounded_text(text, field, max_length)
    except OutOfBounds as exc:
        raise BadEvent(str(exc)) from None


def _number_text(value: int | float, field: str) -> str:
    if isinstance(value, int) and value.bit_length() > 128:
        raise BadEvent(f"{field} is too long a number")
    return str(value)
