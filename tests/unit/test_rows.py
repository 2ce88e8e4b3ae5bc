"""Rows become typed records by field name; a missing column fails at the boundary, not far from it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest

from storage.rows import record, record_or_none, records


@dataclass(frozen=True)
class Thing:
    id: UUID
    name: str
    size: int = 0


def test_a_row_becomes_a_record_by_field_name_with_conversions_and_defaults() -> None:
    thing_id = uuid4()
    row = {"id": thing_id, "name": "gate", "ignored": 1}
    assert record(Thing, row) == Thing(thing_id, "gate")
    assert record(Thing, {**row, "size": "7"}, size=int) == Thing(thing_id, "gate", 7)
    assert records(Thing, [row, row]) == [Thing(thing_id, "gate")] * 2
    assert record_or_none(Thing, None) is None


def test_a_missing_column_fails_at_once() -> None:
    with pytest.raises(KeyError):
        record(Thing, {"id": uuid4()})
