"""The anchor objects: what is written is read back the same, and anything else under the prefix is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.audit_anchors import BadAnchor, DatedAnchor, anchor_bytes, anchor_key, parse_anchor
from domain.audit_chain import Anchor


def test_an_anchor_round_trips_under_its_days_key() -> None:
    dated = DatedAnchor(date(2031, 3, 1), Anchor(42, bytes(range(32))), datetime(2031, 3, 1, 3, 0, tzinfo=UTC))
    assert anchor_key(dated.day) == "audit/anchors/2031-03-01.json"
    assert parse_anchor(anchor_bytes(dated)) == dated


@pytest.mark.parametrize("data", [
    b"not json", b"{}", b'{"day": "2031-03-01", "last_id": 1, "row_hash": "zz", "at": "2031-03-01T00:00:00+00:00"}',
    b'{"day": "2031-03-01", "last_id": 1, "row_hash": "00ff", "at": "2031-03-01T00:00:00+00:00"}',
    b'{"day": "2031-03-01", "last_id": -1, "row_hash": "' + b"00" * 32 + b'", "at": "2031-03-01T00:00:00+00:00"}',
])
def test_what_is_not_an_anchor_is_refused(data: bytes) -> None:
    with pytest.raises(BadAnchor, match="not an audit anchor"):
        parse_anchor(data)
