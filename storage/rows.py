"""Rows into typed records: the one place where asyncpg's records become the domain's frozen dataclasses.

A record's fields are read from the row by name (the SQL aliases its columns
to the field names); a field with a default may be missing from the row. A
renamed column then fails here, at the boundary, and mypy checks everything
past it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")
Convert = Callable[[Any], Any]
_MISSING = object()
_FIELDS: dict[type[Any], tuple[tuple[str, bool], ...]] = {}


def _fields(cls: type[Any]) -> tuple[tuple[str, bool], ...]:
    """(name, has a default) of each init field of a dataclass, read once per class."""
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple(
            (f.name, f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING)
            for f in dataclasses.fields(cls) if f.init)
    return found


def record(cls: type[T], row: asyncpg.Record, **convert: Convert) -> T:
    """``cls`` from ``row``; ``convert`` maps a field name to a function applied to its column value."""
    values: dict[str, Any] = {}
    for name, optional in _fields(cls):
        value = row.get(name, _MISSING) if optional else row[name]
        if value is _MISSING:
            continue
        values[name] = convert[name](value) if name in convert else value
    return cls(**values)


def record_or_none(cls: type[T], row: asyncpg.Record | None, **convert: Convert) -> T | None:
    return None if row is None else record(cls, row, **convert)


def records(cls: type[T], rows: Iterable[asyncpg.Record], **convert: Convert) -> list[T]:
    return [record(cls, row, **convert) for row in rows]
