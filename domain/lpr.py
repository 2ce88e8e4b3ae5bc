"""Plate reads as senders describe them, turned into one normalized shape.

Three senders: our generic JSON (HMAC-signed), Intelbras (Dahua-family ITSCAM /
VIP push: JSON whose ``AccurateTime`` has no time zone — it is the camera's
configured zone) and Hikvision (ANPR push: an ``anpr.xml`` part with the time
and its offset, plus JPEG parts). Field names follow the vendors' documents;
the fixtures in tests/fixtures/lpr are built from them. Parsing is pure: the
tenant and camera come from the URL the sender posts to, not from the payload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from domain.plates import BadPlate, normalize

SIGNATURE_WINDOW_S = 300
MAX_IMAGES = 4


class BadEvent(ValueError):
    """The payload is not a plate read we can store (the message says why); answered with a 4xx."""


class BadSignature(BadEvent):
    """The sender is not who it claims (signature or timestamp wrong); answered with 401."""


@dataclass(frozen=True)
class PlateRead:
    plate: str  # canonical (domain/plates.py)
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


def _plate(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadEvent("the event has no plate")
    try:
        return normalize(raw)
    except BadPlate as exc:
        raise BadEvent(str(exc)) from None


def _confidence(raw: Any) -> float | None:
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


def _direction(raw: Any) -> str | None:
    text = str(raw or "").strip().lower()
    if text in ("approach", "approaching", "forward", "obverse", "in", "entering", "toward"):
        return "approaching"
    if text in ("leave", "leaving", "reverse", "backward", "out", "exiting", "away"):
        return "leaving"
    return None


def _image(raw: Any) -> bytes:
    try:
        return base64.b64decode(str(raw), validate=True)
    except (binascii.Error, ValueError):
        raise BadEvent("an image is not valid base64") from None


def _aware(raw: Any, what: str) -> datetime:
    try:
        instant = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise BadEvent(f"{what} {raw!r} is not an ISO 8601 instant") from None
    if instant.tzinfo is None:
        raise BadEvent(f"{what} {raw!r} has no time zone offset")
    return instant.astimezone(UTC)


def _json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadEvent(f"malformed JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadEvent("the JSON body must be an object")
    return document


def _str(value: Any) -> str | None:
    return str(value).strip() or None if value not in (None, "") else None


# --- generic JSON (senders we control) -------------------------------------------------


def source_allowed(address: str | None, allowed: list[IPv4Network | IPv6Network] | None) -> bool:
    """Whether a push from ``address`` is accepted; no allow-list accepts any address (the token decides)."""
    if not allowed:
        return True
    try:
        host = ip_address(address or "")
    except ValueError:
        return False
    return any(host in network for network in allowed)


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


def parse_generic(body: bytes) -> PlateRead:
    """``{"plate", "captured_at" (ISO 8601 with offset), "confidence", "direction", "vehicle": {"color",
    "type"}, "images": [base64], "event_id"}``."""
    doc = _json(body)
    vehicle: dict[str, Any] = doc["vehicle"] if isinstance(doc.get("vehicle"), dict) else {}
    images = doc.get("images") or []
    if not isinstance(images, list) or len(images) > MAX_IMAGES:
        raise BadEvent(f"images must be a list of at most {MAX_IMAGES} base64 strings")
    return PlateRead(
        plate=_plate(doc.get("plate")), captured_at=_aware(doc.get("captured_at"), "captured_at"),
        confidence=_confidence(doc.get("confidence")), direction=_direction(doc.get("direction")),
        vehicle_color=_str(vehicle.get("color")), vehicle_type=_str(vehicle.get("type")),
        images=tuple(_image(i) for i in images), vendor_event_id=_str(doc.get("event_id")),
    )


# --- Intelbras (Dahua-family push: /NotificationInfo/TollgateInfo) ------------------------


def parse_intelbras(body: bytes, camera_zone: str) -> tuple[PlateRead, str | None]:
    """A TollgateInfo push; returns the read and the sender's ``DeviceID``.

    ``Picture.SnapInfo.AccurateTime`` ("YYYY-MM-DD HH:MM:SS[.mmm]") carries no
    zone: it is the camera's local time, so the camera's configured zone decides.
    """
    doc = _json(body)
    picture = doc.get("Picture")
    if not isinstance(picture, dict):
        raise BadEvent("TollgateInfo without Picture")
    plate_info = picture.get("Plate") or {}
    snap = picture.get("SnapInfo") or {}
    vehicle = picture.get("Vehicle") or {}
    accurate = snap.get("AccurateTime")
    try:
        local = datetime.fromisoformat(str(accurate))
    except ValueError:
        raise BadEvent(f"AccurateTime {accurate!r} is not a date and time") from None
    captured = (local if local.tzinfo else local.replace(tzinfo=ZoneInfo(camera_zone))).astimezone(UTC)
    image = (picture.get("NormalPic") or {}).get("Content")
    read = PlateRead(
        plate=_plate(plate_info.get("PlateNumber")), captured_at=captured,
        confidence=_confidence(plate_info.get("Confidence")), direction=_direction(snap.get("Direction")),
        vehicle_color=_str(vehicle.get("VehicleColor")), vehicle_type=_str(vehicle.get("VehicleType")),
        images=(_image(image),) if image else (), vendor_event_id=_str(snap.get("EventID") or doc.get("EventID")),
    )
    return read, _str(snap.get("DeviceID") or doc.get("DeviceID"))


# --- Hikvision (ANPR push: multipart with anpr.xml) ------------------------------------------


def _children(element: Element) -> dict[str, Element]:
    return {child.tag.rsplit("}", 1)[-1]: child for child in element}


def _text(element: Element | None) -> str | None:
    return element.text.strip() if element is not None and element.text and element.text.strip() else None


def parse_hikvision(xml: bytes, images: list[bytes]) -> PlateRead:
    """An ``EventNotificationAlert`` (namespaced or not) and the JPEG parts that came with it."""
    try:
        root = ElementTree.fromstring(xml)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise BadEvent(f"malformed anpr.xml: {exc}") from None
    if root.tag.rsplit("}", 1)[-1] != "EventNotificationAlert":
        raise BadEvent("anpr.xml is not an EventNotificationAlert")
    top = _children(root)
    anpr_element = top.get("ANPR")
    if anpr_element is None:
        raise BadEvent("EventNotificationAlert without ANPR")
    anpr = _children(anpr_element)
    vehicle_element = anpr.get("vehicleInfo") or top.get("vehicleInfo")
    vehicle = _children(vehicle_element) if vehicle_element is not None else {}
    return PlateRead(
        plate=_plate(_text(anpr.get("licensePlate"))), captured_at=_aware(_text(top.get("dateTime")), "dateTime"),
        confidence=_confidence(_text(anpr.get("confidenceLevel"))), direction=_direction(_text(anpr.get("direction"))),
        vehicle_color=_text(vehicle.get("color")), vehicle_type=_text(vehicle.get("vehicleType")),
        images=tuple(images[:MAX_IMAGES]), vendor_event_id=_text(top.get("UUID")) or _text(top.get("uuid")),
    )
