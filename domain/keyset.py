"""Keyset pages: a page ends with a cursor, the (instant, id) of its last row, opaque to clients.

Newest-first lists that grow while someone pages through them (plate reads)
page by "rows before this key", never by offset: an offset would shift as new
rows arrive and show a row twice or skip one.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

from domain.errors import DomainError


class BadCursor(DomainError):
    """The cursor was not made by ``page_cursor``."""


def page_cursor(at: datetime, row_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode()


def cursor_key(cursor: str) -> tuple[datetime, UUID]:
    """The (instant, id) a cursor stands for; BadCursor if it is not one."""
    try:
        at, _, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), UUID(row_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise BadCursor("bad cursor") from None
