"""Brazilian licence plates: one canonical form for storing and searching them.

Cameras and operators write the same plate as ``abc-1234``, ``ABC 1234`` or
``ABC1234``; Mercosul plates look like ``ABC1D23``. The canonical form is
upper case without separators. Searches may use ``?`` (one character) and
``*`` (any run), or a prefix.
"""

from __future__ import annotations

import re
from enum import StrEnum

_SEPARATORS = re.compile(r"[\s\-.·_/]+")
_OLD = re.compile(r"^[A-Z]{3}[0-9]{4}$")
_MERCOSUL = re.compile(r"^[A-Z]{3}[0-9][A-Z][0-9]{2}$")
_PATTERN = re.compile(r"^[A-Z0-9?*]{1,10}$")
MAX_PLATE = 10  # other countries' plates (Mercosul neighbours) are kept, up to this length


class PlateFormat(StrEnum):
    MERCOSUL = "mercosul"
    OLD = "old"
    OTHER = "other"


class BadPlate(ValueError):
    """Not a plate we can store or search for (the message says why)."""


def normalize(raw: str) -> str:
    """The canonical form: upper case, no separators. BadPlate if nothing plate-like is left."""
    plate = _SEPARATORS.sub("", raw.strip().upper())
    if not plate:
        raise BadPlate("the plate is empty")
    if len(plate) > MAX_PLATE or not plate.isalnum() or not plate.isascii():
        raise BadPlate(f"{_shown(raw)} is not a licence plate (letters and digits, at most {MAX_PLATE})")
    return plate


def plate_format(plate: str) -> PlateFormat:
    if _MERCOSUL.match(plate):
        return PlateFormat.MERCOSUL
    return PlateFormat.OLD if _OLD.match(plate) else PlateFormat.OTHER


def search_pattern(raw: str) -> tuple[str, bool]:
    """A search term as (SQL LIKE pattern or exact plate, is_pattern): ``?`` is one character, ``*`` any run."""
    term = _SEPARATORS.sub("", raw.strip().upper())
    if not _PATTERN.match(term):
        raise BadPlate(f"{_shown(raw)} is not a plate search (letters, digits, ? and *, at most 10)")
    if "?" not in term and "*" not in term:
        return term, False
    return term.replace("?", "_").replace("*", "%"), True


def _shown(raw: str) -> str:
    """The input as a message quotes it: escaped, and short (a pushed "plate" may be megabytes)."""
    text = repr(raw)
    return text if len(text) <= 40 else text[:40] + "…"
