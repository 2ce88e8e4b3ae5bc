"""The three webhook parsers on arbitrary bytes: a read within bounds, or their own refusal (``BadEvent``, a 4xx) —
never another exception (which the API would answer with a 500)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from domain.lpr import bounds
from domain.lpr.multipart import hikvision_parts
from domain.lpr.reads import BadEvent, PlateRead
from domain.lpr.vendors import parse_generic, parse_hikvision, parse_intelbras

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lpr"
NOW = datetime(2026, 11, 24, tzinfo=UTC)
FUZZ = settings(max_examples=300, deadline=timedelta(seconds=1), suppress_health_check=[HealthCheck.too_slow])
BOUNDARY = "fuzzboundary"


def _within_bounds(read: PlateRead) -> None:
    """What a parser returns can be stored: every field inside domain/lpr/bounds.py."""
    assert 1 <= len(read.plate) <= 10 and read.plate.isascii() and read.plate.isalnum()
    assert read.captured_at.tzinfo is not None and bounds.capture_time(read.captured_at, NOW) == read.captured_at
    assert bounds.outside_writable_window(read.captured_at, NOW) is None
    assert read.confidence is None or 0 <= read.confidence <= 100
    assert read.direction in (None, "approaching", "leaving")
    for value, limit in ((read.vehicle_color, bounds.MAX_NAME), (read.vehicle_type, bounds.MAX_NAME),
                         (read.vendor_event_id, bounds.MAX_EVENT_ID)):
        assert value is None or bounds.bounded_text(value, "field", limit) == value
    assert len(read.images) <= bounds.MAX_IMAGES
    assert all(bounds.MIN_IMAGE_BYTES <= len(image) <= bounds.MAX_IMAGE_BYTES for image in read.images)


def _parsed_or_refused(parse: Callable[[bytes], PlateRead], body: bytes) -> None:
    try:
        read = parse(body)
    except BadEvent:
        return
    _within_bounds(read)


# JSON documents shaped like the senders' own, with fields of any type and value: most reach deep into the parser.
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=12), inner, max_size=3), max_leaves=10)
_generic_keys = st.sampled_from(["plate", "captured_at", "confidence", "direction", "vehicle", "images", "event_id"])
_stamps = st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()) | st.text(max_size=30)


def _mutated(fixture: str) -> st.SearchStrategy[bytes]:
    raw = (FIXTURES / fixture).read_bytes()
    return st.tuples(st.integers(0, len(raw)), st.integers(0, 64), st.binary(max_size=64)).map(
        lambda cut: raw[:cut[0]] + cut[2] + raw[cut[0] + cut[1]:])


@FUZZ
@given(st.binary(max_size=2000) | _mutated("generic.json")
       | st.dictionaries(_generic_keys, _values | _stamps, max_size=7).map(lambda d: json.dumps(d).encode()))
@example(b"[" * 100_000)
@example(b'{"plate": "ABC1234", "captured_at": "9999-12-31T23:59:59-03:00"}')
@example(b'{"plate": "ABC1234", "captured_at": "2026-11-23T10:00:00Z", "confidence": 1' + b"0" * 5000 + b"}")
@example(b'{"plate": "ABC1234", "captured_at": "2026-11-23T10:00:00Z", "event_id": "\\ud800"}')
def test_generic_json_is_parsed_or_refused(body: bytes) -> None:
    _parsed_or_refused(lambda b: parse_generic(b, now=NOW), body)


def _intelbras(doc: dict[str, Any]) -> bytes:
    return json.dumps({"Picture": doc}).encode()


_intelbras_keys = st.sampled_from(["Plate", "SnapInfo", "Vehicle", "NormalPic"])


@FUZZ
@given(st.binary(max_size=2000) | _mutated("intelbras_tollgate.json")
       | st.dictionaries(_intelbras_keys, _values, max_size=4).map(_intelbras)
       | st.builds(lambda at, plate: _intelbras({"Plate": {"PlateNumber": plate}, "SnapInfo": {"AccurateTime": at}}),
                   _stamps | _values, _values))
@example(_intelbras({"Plate": "ABC1234"}))
@example(_intelbras({"Plate": {"PlateNumber": "ABC1234"}, "SnapInfo": {"AccurateTime": "9999-12-31 23:59:59"}}))
@example(_intelbras({"Plate": {"PlateNumber": "ABC1234"}, "SnapInfo": {"AccurateTime": "0001-01-01 00:00:00"}}))
def test_intelbras_json_is_parsed_or_refused(body: bytes) -> None:
    _parsed_or_refused(lambda b: parse_intelbras(b, "America/Sao_Paulo", now=NOW)[0], body)


def _multipart(parts: list[tuple[str, bytes]]) -> bytes:
    lines = b""
    for name, data in parts:
        lines += (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n\r\n"
                  .encode() + data + b"\r\n")
    return lines + f"--{BOUNDARY}--\r\n".encode()


def _hikvision(body: bytes) -> PlateRead:
    xml, images = hikvision_parts(body, f"multipart/form-data; boundary={BOUNDARY}")
    return parse_hikvision(xml, images, now=NOW)


_xml = st.binary(max_size=1500) | _mutated("hikvision_anpr.xml")
_jpegs = st.lists(st.binary(max_size=40).map(lambda b: b"\xff\xd8" + b), max_size=6)


@FUZZ
@given(st.binary(max_size=2000)
       | st.builds(lambda xml, jpegs: _multipart([("anpr.xml", xml), *((f"p{n}.jpg", j) for n, j in enumerate(jpegs))]),
                   _xml, _jpegs)
       | _mutated("hikvision_anpr.xml").map(lambda xml: _multipart([("anpr.xml", xml)])).map(
           lambda body: body[: len(body) // 2]))
@example(_multipart([("anpr.xml", (FIXTURES / "hikvision_anpr.xml").read_bytes().replace(
    b"2026-11-23T10:15:32.120-03:00", b"9999-12-31T23:59:59-03:00"))]))
@example(_multipart([("anpr.xml", b'<?xml version="1.0" encoding="nope"?><EventNotificationAlert/>')]))
def test_hikvision_multipart_and_xml_are_parsed_or_refused(body: bytes) -> None:
    _parsed_or_refused(_hikvision, body)
