"""Plate reads as each sender format describes them, parsed into a ``PlateRead``.

Three senders: our generic JSON (signed, domain/lpr/signature.py), Intelbras
(Dahua-family ITSCAM / VIP push: JSON whose ``AccurateTime`` has no time zone —
it is the camera's configured zone) and Hikvision (ANPR push: an ``anpr.xml``
part with the time and its offset, plus JPEG parts). Field names follow the
vendors' documents; the fixtures in tests/fixtures/lpr are built from them.

Whatever the bytes, a parser returns a read within bounds (domain/lpr/bounds.py)
or raises ``BadEvent`` saying what is wrong — never another exception (a fuzz
test holds them to it), so a malformed push gets a 4xx, not a 5xx.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from domain.lpr.bounds import MAX_EVENT_ID, MAX_IMAGES
from domain.lpr.reads import (
    BadEvent,
    PlateRead,
    confidence_field,
    direction_field,
    image_bytes,
    image_field,
    instant_field,
    json_object,
    object_field,
    plate_field,
    shown,
    text_field,
    utc_instant,
)


def parse_generic(body: bytes, *, now: datetime) -> PlateRead:
    """``{"plate", "captured_at" (ISO 8601 with offset), "confidence", "direction", "vehicle": {"color",
    "type"}, "images": [base64], "event_id"}``."""
    doc = json_object(body)
    vehicle = object_field(doc, "vehicle")
    images = doc.get("images") or []
    if not isinstance(images, list) or len(images) > MAX_IMAGES:
        raise BadEvent(f"images must be a list of at most {MAX_IMAGES} base64 strings")
    return PlateRead(
        plate=plate_field(doc.get("plate")), captured_at=instant_field(doc.get("captured_at"), "captured_at", now),
        confidence=confidence_field(doc.get("confidence")), direction=direction_field(doc.get("direction")),
        vehicle_color=text_field(vehicle.get("color"), "vehicle.color"),
        vehicle_type=text_field(vehicle.get("type"), "vehicle.type"),
        images=tuple(image_field(image, n) for n, image in enumerate(images)),
        vendor_event_id=text_field(doc.get("event_id"), "event_id", MAX_EVENT_ID),
    )


# --- Intelbras (Dahua-family push: /NotificationInfo/TollgateInfo) ------------------------


def parse_intelbras(body: bytes, camera_zone: str, *, now: datetime) -> tuple[PlateRead, str | None]:
    """A TollgateInfo push; returns the read and the sender's ``DeviceID``.

    ``Picture.SnapInfo.AccurateTime`` ("YYYY-MM-DD HH:MM:SS[.mmm]") carries no
    zone: it is the camera's local time, so the camera's configured zone decides.
    """
    doc = json_object(body)
    picture = doc.get("Picture")
    if not isinstance(picture, dict):
        raise BadEvent("TollgateInfo without Picture (an object)")
    plate_info = object_field(picture, "Plate", "Picture.")
    snap = object_field(picture, "SnapInfo", "Picture.")
    vehicle = object_field(picture, "Vehicle", "Picture.")
    normal_pic = object_field(picture, "NormalPic", "Picture.")
    image = normal_pic.get("Content")
    read = PlateRead(
        plate=plate_field(plate_info.get("PlateNumber")), captured_at=_local_time(snap.get("AccurateTime"), camera_zone, now),
        confidence=confidence_field(plate_info.get("Confidence")), direction=direction_field(snap.get("Direction")),
        vehicle_color=text_field(vehicle.get("VehicleColor"), "Picture.Vehicle.VehicleColor"),
        vehicle_type=text_field(vehicle.get("VehicleType"), "Picture.Vehicle.VehicleType"),
        images=(image_field(image),) if image else (),
        vendor_event_id=text_field(snap.get("EventID") or doc.get("EventID"), "EventID", MAX_EVENT_ID),
    )
    return read, text_field(snap.get("DeviceID") or doc.get("DeviceID"), "DeviceID")


def _local_time(accurate: Any, camera_zone: str, now: datetime) -> datetime:
    what = "Picture.SnapInfo.AccurateTime"
    if not isinstance(accurate, str):
        raise BadEvent(f"{what} {shown(accurate)} is not a date and time")
    try:
        local = datetime.fromisoformat(accurate)
    except ValueError:
        raise BadEvent(f"{what} {shown(accurate)} is not a date and time") from None
    return utc_instant(local if local.tzinfo else local.replace(tzinfo=ZoneInfo(camera_zone)), what, now)


# --- Hikvision (ANPR push: multipart with anpr.xml) ------------------------------------------


def _children(element: Element) -> dict[str, Element]:
    return {str(child.tag).rsplit("}", 1)[-1]: child for child in element}


def _text(element: Element | None) -> str | None:
    return element.text.strip() if element is not None and element.text and element.text.strip() else None


def parse_hikvision(xml: bytes, images: list[bytes], *, now: datetime) -> PlateRead:
    """An ``EventNotificationAlert`` (namespaced or not) and the JPEG parts that came with it (the first
    ``MAX_IMAGES`` are kept: devices send a plate crop and scene pictures)."""
    try:
        root = ElementTree.fromstring(xml)
    except (ElementTree.ParseError, DefusedXmlException, ValueError, LookupError) as exc:
        raise BadEvent(f"malformed anpr.xml: {shown(str(exc), 200)}") from None
    if str(root.tag).rsplit("}", 1)[-1] != "EventNotificationAlert":
        raise BadEvent("anpr.xml is not an EventNotificationAlert")
    top = _children(root)
    anpr_element = top.get("ANPR")
    if anpr_element is None:
        raise BadEvent("EventNotificationAlert without ANPR")
    anpr = _children(anpr_element)
    vehicle_element = anpr.get("vehicleInfo") or top.get("vehicleInfo")
    vehicle = _children(vehicle_element) if vehicle_element is not None else {}
    return PlateRead(
        plate=plate_field(_text(anpr.get("licensePlate"))),
        captured_at=instant_field(_text(top.get("dateTime")), "dateTime", now),
        confidence=confidence_field(_text(anpr.get("confidenceLevel"))), direction=direction_field(_text(anpr.get("direction"))),
        vehicle_color=text_field(_text(vehicle.get("color")), "vehicleInfo.color"),
        vehicle_type=text_field(_text(vehicle.get("vehicleType")), "vehicleInfo.vehicleType"),
        images=tuple(image_bytes(image, n) for n, image in enumerate(images[:MAX_IMAGES])),
        vendor_event_id=text_field(_text(top.get("UUID")) or _text(top.get("uuid")), "UUID", MAX_EVENT_ID),
    )
