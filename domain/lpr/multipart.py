"""The parts of a Hikvision ANPR push: ``multipart/form-data`` with an ``anpr.xml`` part and JPEG parts.

Parsed from the body already read within its size limit, by python-multipart's
push parser (pure, no temporary files), at most ``MAX_PARTS`` parts. Any
malformed body is a ``BadEvent`` (a 4xx), like every other refusal of a push.
"""

from __future__ import annotations

from collections.abc import Callable

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from domain.lpr.reads import BadEvent

MAX_PARTS = 16
_MAX_BOUNDARY = 200  # RFC 2046 allows 70 characters


class _Collector:
    """The parts as python-multipart's callbacks deliver them: (Content-Disposition options, data)."""

    def __init__(self) -> None:
        self.parts: list[tuple[dict[bytes, bytes], bytes]] = []
        self._headers: dict[bytes, bytes] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._data = bytearray()

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_part_data": self._part_data, "on_part_end": self._end}

    def _begin(self) -> None:
        self._headers, self._data = {}, bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._field).lower()] = bytes(self._value)
        self._field, self._value = bytearray(), bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._data += data[start:end]

    def _end(self) -> None:
        if len(self.parts) >= MAX_PARTS:
            raise BadEvent(f"more than {MAX_PARTS} parts in the multipart body")
        _, disposition = parse_options_header(self._headers.get(b"content-disposition"))
        self.parts.append((disposition, bytes(self._data)))


def hikvision_parts(body: bytes, content_type: str) -> tuple[bytes, list[bytes]]:
    """The ``anpr.xml`` part (by file name or field name) and the JPEG parts, in order."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > _MAX_BOUNDARY:
        raise BadEvent("a Hikvision push must be multipart/form-data with a boundary")
    if not body:
        raise BadEvent("the multipart body is empty")
    collector = _Collector()
    parser = MultipartParser(boundary, collector.callbacks(), max_size=len(body))  # type: ignore[arg-type]
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError as exc:
        raise BadEvent(f"malformed multipart body: {exc}") from None
    xml: bytes | None = None
    images: list[bytes] = []
    for disposition, data in collector.parts:
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        filename = disposition.get(b"filename", b"").decode("utf-8", "replace") or name
        if filename.lower().endswith(".xml") or name.lower() in ("anpr.xml", "anpr"):
            xml = data
        elif data[:2] == b"\xff\xd8":
            images.append(data)
    if xml is None:
        raise BadEvent("no anpr.xml part")
    return xml, images
