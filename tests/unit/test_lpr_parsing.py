"""Plate reads from each sender's documented payload, plates normalized, and every bad input refused with a reason."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from ipaddress import ip_network
from pathlib import Path

import pytest

from domain.lpr.plates import BadPlate, PlateFormat, normalize, plate_format, search_pattern
from domain.lpr.reads import BadEvent
from domain.lpr.senders import source_allowed
from domain.lpr.signature import verify_signature
from domain.lpr.vendors import parse_generic, parse_hikvision, parse_intelbras

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lpr"
JPEG = (FIXTURES / "plate.jpg").read_bytes()
NOW = datetime(2026, 11, 24, tzinfo=UTC)  # the fixtures were captured the day before


def test_plates_have_one_canonical_form() -> None:
    assert normalize(" abc-1234 ") == normalize("ABC 1234") == normalize("abc.1234") == "ABC1234"
    assert normalize("abc1d23") == "ABC1D23"
    assert plate_format("ABC1D23") == PlateFormat.MERCOSUL and plate_format("ABC1234") == PlateFormat.OLD
    assert plate_format("AB12345") == PlateFormat.OTHER
    for bad in ("", "   ", "ABC#123", "ÁBC1234", "ABCDEFGHIJK"):
        with pytest.raises(BadPlate):
            normalize(bad)


def test_plate_searches_take_wildcards_and_prefixes() -> None:
    assert search_pattern("abc-1d23") == ("ABC1D23", False)
    assert search_pattern("ABC?D23") == ("ABC_D23", True)
    assert search_pattern("abc*") == ("ABC%", True)
    with pytest.raises(BadPlate):
        search_pattern("ABC%")  # SQL wildcards are not ours: no injection into LIKE


def test_intelbras_time_is_the_cameras_zone() -> None:
    read, device = parse_intelbras((FIXTURES / "intelbras_tollgate.json").read_bytes(), "America/Sao_Paulo", now=NOW)
    assert (read.plate, read.confidence, read.direction) == ("ABC1D23", 92.0, "approaching")
    assert read.captured_at == datetime(2026, 11, 23, 13, 15, 30, 250000, tzinfo=UTC)  # 10:15:30.25 at UTC−3
    assert (read.vehicle_color, read.vehicle_type, device) == ("Silver", "Car", "ITSCAM-600-00A1B2")
    assert read.images == (JPEG,) and read.vendor_event_id == "4711"
    manaus, _ = parse_intelbras((FIXTURES / "intelbras_tollgate.json").read_bytes(), "America/Manaus", now=NOW)
    assert manaus.captured_at == datetime(2026, 11, 23, 14, 15, 30, 250000, tzinfo=UTC)


def test_hikvision_anpr_xml_with_its_offset_and_images() -> None:
    read = parse_hikvision((FIXTURES / "hikvision_anpr.xml").read_bytes(), [JPEG, JPEG], now=NOW)
    assert (read.plate, read.confidence, read.direction) == ("DEF4567", 88.0, "leaving")
    assert read.captured_at == datetime(2026, 11, 23, 13, 15, 32, 120000, tzinfo=UTC)
    assert (read.vehicle_color, read.vehicle_type) == ("black", "SUV")
    assert read.images == (JPEG, JPEG) and read.vendor_event_id == "8f0e6b2a-1c3d-4e5f-9a8b-7c6d5e4f3a2b"


def test_generic_json() -> None:
    read = parse_generic((FIXTURES / "generic.json").read_bytes(), now=NOW)
    assert (read.plate, read.confidence, read.direction) == ("XYZ9876", 87.5, "leaving")
    assert read.captured_at == datetime(2026, 11, 23, 13, 15, 31, 500000, tzinfo=UTC)
    assert read.images == (JPEG,) and read.dedupe_key("cam") == "cam:id:gen-001"


def _generic(body: bytes) -> object:
    return parse_generic(body, now=NOW)


def _refused(parse: object, body: bytes) -> str:
    with pytest.raises(BadEvent) as caught:
        parse(body)  # type: ignore[operator]
    return str(caught.value)


def test_bad_payloads_are_refused_with_a_reason() -> None:
    generic = json.loads((FIXTURES / "generic.json").read_text())
    assert "malformed JSON" in _refused(_generic, b"{not json")
    assert "no plate" in _refused(_generic, json.dumps({**generic, "plate": ""}).encode())
    assert "no time zone" in _refused(_generic, json.dumps({**generic, "captured_at": "2026-11-23 10:00"}).encode())
    assert "base64" in _refused(_generic, json.dumps({**generic, "images": ["***"]}).encode())
    assert "outside 0–100" in _refused(_generic, json.dumps({**generic, "confidence": 150}).encode())
    xml = (FIXTURES / "hikvision_anpr.xml").read_bytes()
    assert "malformed anpr.xml" in _refused(lambda b: parse_hikvision(b, [], now=NOW), xml[:200])
    assert "no plate" in _refused(lambda b: parse_hikvision(b, [], now=NOW), xml.replace(b"DEF4567", b""))
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><EventNotificationAlert/>'
    assert "malformed anpr.xml" in _refused(lambda b: parse_hikvision(b, [], now=NOW), bomb), "no entity expansion"
    intelbras = json.loads((FIXTURES / "intelbras_tollgate.json").read_text())
    del intelbras["Picture"]["Plate"]["PlateNumber"]
    assert "no plate" in _refused(lambda b: parse_intelbras(b, "America/Sao_Paulo", now=NOW), json.dumps(intelbras).encode())


def test_signatures_time_window_and_tampering() -> None:
    secret, body, now = b"camera secret", b'{"plate": "ABC1234"}', 1_795_000_000.0
    signature = hmac.new(secret, b"1795000000." + body, hashlib.sha256).hexdigest()
    verify_signature(secret, "1795000000", body, signature, now)
    verify_signature(secret, "1795000000", body, signature.upper(), now + 299)
    with pytest.raises(BadEvent, match="away from the server's clock"):
        verify_signature(secret, "1795000000", body, signature, now + 301)
    with pytest.raises(BadEvent, match="bad signature"):
        verify_signature(secret, "1795000000", body + b" ", signature, now)
    with pytest.raises(BadEvent, match="Unix seconds"):
        verify_signature(secret, "yesterday", body, signature, now)


def test_a_source_allow_list_accepts_only_its_networks() -> None:
    allowed = [ip_network("10.9.9.0/24"), ip_network("fd00::/8")]
    assert source_allowed("10.9.9.7", allowed) and source_allowed("fd00::1", allowed)
    assert not source_allowed("10.9.10.1", allowed) and not source_allowed(None, allowed)
    assert not source_allowed("not an address", allowed)
    assert source_allowed("192.0.2.1", None) and source_allowed(None, []), "no list: the token decides"
