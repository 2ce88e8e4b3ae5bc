"""Daily anchors of the audit chain: the head of the chain once a day, kept in the object store.

The database can check every link of the chain but not that its tail is all there: someone able to delete the
last rows and rewrite the head row leaves a shorter chain that is intact. An anchor — the head's row id and
hash at some moment, written where the database's owner cannot quietly rewrite it — says "row N existed with
this hash"; ``gtvision audit verify`` checks that it still does. One anchor per UTC day, at
``audit/anchors/YYYY-MM-DD.json``, written by the retention actor's pass (services/audit_anchoring.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from domain.audit_chain import Anchor
from domain.errors import DomainError

ANCHOR_PREFIX = "audit/anchors/"


class BadAnchor(DomainError):
    """An object under the anchor prefix that is not an anchor this code wrote."""


@dataclass(frozen=True)
class DatedAnchor:
    """The anchor of one day: the chain's head and when it was read."""

    day: date
    anchor: Anchor
    at: datetime

    def to_json(self) -> dict[str, object]:
        return {"day": self.day.isoformat(), "last_id": self.anchor.last_id,
                "row_hash": self.anchor.row_hash.hex(), "at": self.at.isoformat()}


def anchor_key(day: date) -> str:
    return f"{ANCHOR_PREFIX}{day.isoformat()}.json"


def anchor_bytes(dated: DatedAnchor) -> bytes:
    return json.dumps(dated.to_json(), sort_keys=True).encode()


def parse_anchor(data: bytes) -> DatedAnchor:
    """The anchor an object holds; BadAnchor (saying what is wrong) if it is not one."""
    try:
        fields = json.loads(data)
        row_hash = bytes.fromhex(fields["row_hash"])
        dated = DatedAnchor(date.fromisoformat(fields["day"]), Anchor(int(fields["last_id"]), row_hash),
                            datetime.fromisoformat(fields["at"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise BadAnchor(f"not an audit anchor: {exc}") from None
    if len(row_hash) != 32 or dated.anchor.last_id < 0:
        raise BadAnchor("not an audit anchor: the hash must be 32 bytes and the row id not negative")
    return dated
