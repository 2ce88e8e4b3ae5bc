"""Plate reads as each sender format describes them, parsed into a ``PlateRead``.

Three senders: our generic JSON (signed, domain/lpr/signature.py), Intelbras
(Dahua-family ITSCAM / VIP push: JSON whose ``AccurateTime`` has no time zone —
it is the camera's configured zone) and Hikvision (ANPR push: an ``anpr.xml``
part with the time and its offset, plus JPEG parts). Field names follow the
vendors' documents; the fixtures in tests/fixtures/lpr are built from them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from domain.lpr.reads import (
    MAX_IMAGES,
    BadEvent,
    PlateRead,
    confidence_field,
    direction_field,
    image_field,
    instant_field,
    json_object,
    plate_field,
    text_field,
)


def parse_generic(body: bytes) -> PlateRead:
    """``{"plate", "captured_at" (ISO 8601 with offset), "confidence", "direction", "vehicle": {"color",
    "type"}, "images": [base64], "event_id"}``."""
    doc = json_object(body)
    vehicle: dict[str, Any] = doc["vehicle"] if isinstance(doc.get("vehicle"), dict) else {}
    images = doc.get("images") or []
    if not isinstance(images, list) or len(images) > MAX_IMAGES:
        raise BadEvent(f"images must be a list of at most {MAX_IMAGES} base64 strings")
    return PlateRead(
        plate=plate_field(doc.get("plate")), captured_at=instant_field(doc.get("captured_at"), "captured_at"),
        confidence=confidence_field(doc.get("confidence")), direction=direction_field(doc.get("direction")),
        vehicle_color=text_field(vehicle.get("color")), vehicle_type=text_field(vehicle.get("type")),
        images=tuple(image_field(i) for i in images), vendor_event_id=text_field(doc.get("event_id")),
    )


# --- Intelbras (Dahua-family push: /NotificationInfo/TollgateInfo) ------------------------


def parse_intelbras(body: bytes, camera_zone: str) -> tuple[PlateRead, str | None]:
    """A TollgateInfo push; returns the read and the sender's ``DeviceID``.

    ``Picture.SnapInfo.AccurateTime`` ("YYYY-MM-DD HH:MM:SS[.mmm]") carries no
    zone: it is the camera's local time, so the camera's configured zone decides.
    """
    doc = json_object(body)
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
        plate=plate_field(plate_info.get("PlateNumber")), captured_at=captured,
        confidence=confidence_field(plate_info.get("Confidence")), direction=direction_field(snap.get("Direction")),
        vehicle_color=text_field(vehicle.get("VehicleColor")), vehicle_type=text_field(vehicle.get("VehicleType")),
        images=(image_field(image),) if image else (), vendor_event_id=text_field(snap.get("EventID") or doc.get("EventID")),
    )
    return read, text_field(snap.get("DeviceID") or doc.get("DeviceID"))


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
        plate=plate_field(_text(anpr.get("licensePlate"))), captured_at=instant_field(_text(top.get("dateTime")), "dateTime"),
        confidence=confidence_field(_text(anpr.get("confidenceLevel"))), direction=direction_field(_text(anpr.get("direction"))),
        vehicle_color=_text(vehicle.get("color")), vehicle_type=_text(vehicle.get("vehicleType")),
        images=tuple(images[:MAX_IMAGES]), vendor_event_id=_text(top.get("UUID")) or _text(top.get("uuid")),
    )
