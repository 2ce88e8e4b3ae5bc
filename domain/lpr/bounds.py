"""The bounds every plate read must fit before it is acknowledged, and the capture-time window the writer keeps.

A read that is acknowledged but can never be stored (a NUL PostgreSQL's text
refuses, a lone surrogate UTF-8 cannot encode, an event id too long for the
unique index, a capture time in year 9999 that overflows the month arithmetic)
used to stop the writer for every city. So each field is bounded here, at
intake, and refused with a message naming it (a 4xx the sender sees); the
writer still isolates whatever slips through (services/lpr_write.py).

Capture time: at most ``MAX_AHEAD`` after the server's clock and at most
``MAX_AGE`` before it. The city's plan is not at hand at intake (looking it up
would cost a query per push), so the age bound is a fixed 400 days — a year of
reads plus a month, beyond any plan; older reads are a camera with a wrong clock.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

MAX_AHEAD = timedelta(hours=24)
MAX_AGE = timedelta(days=400)
# The writer keeps a little more than the intake: a read accepted at 399 days may wait for a writer that was down.
WRITER_GRACE = timedelta(days=7)

MAX_EVENT_ID = 128  # vendors' ids are UUIDs or counters; the dedupe key must fit the unique index
MAX_NAME = 64  # camera-given names: vehicle colour and type, device id
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MIN_IMAGE_BYTES = 16  # smaller is no picture


class OutOfBounds(ValueError):
    """A field outside its bounds; the message names the field and says why."""


def bounded_text(value: str, field: str, max_length: int) -> str:
    """``value`` if it is at most ``max_length`` characters of printable text (no NUL, no lone surrogate, no
    control or format characters — none has a place in a plate read's fields)."""
    if len(value) > max_length:
        raise OutOfBounds(f"{field} is longer than {max_length} characters")
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            raise OutOfBounds(f"{field} holds a lone surrogate (not valid Unicode text)")
        if category in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp"):
            raise OutOfBounds(f"{field} holds a control character (U+{ord(char):04X})")
    return value


def capture_time(captured_at: datetime, now: datetime, field: str = "captured_at") -> datetime:
    """``captured_at`` if it lies within [now − MAX_AGE, now + MAX_AHEAD]."""
    if captured_at > now + MAX_AHEAD:
        raise OutOfBounds(f"{field} {captured_at.isoformat()} is more than {_hours(MAX_AHEAD)} h ahead of the server's"
                          " clock (check the camera's clock)")
    if captured_at < now - MAX_AGE:
        raise OutOfBounds(f"{field} {captured_at.isoformat()} is more than {MAX_AGE.days} days old"
                          " (check the camera's clock)")
    return captured_at


def image_size(image: bytes, index: int) -> bytes:
    if not MIN_IMAGE_BYTES <= len(image) <= MAX_IMAGE_BYTES:
        raise OutOfBounds(f"images[{index}] has {len(image)} bytes; an image has {MIN_IMAGE_BYTES}"
                          f"–{MAX_IMAGE_BYTES} bytes")
    return image


def month_of(instant: datetime) -> datetime:
    """The first instant (UTC) of ``instant``'s month: the partition it belongs to."""
    return instant.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(month: datetime) -> datetime:
    return (month + timedelta(days=32)).replace(day=1)


def writable_months(now: datetime) -> tuple[datetime, datetime]:
    """The first and last month the writer stores reads in (and may create a partition for)."""
    return month_of(now - MAX_AGE - WRITER_GRACE), month_of(now + MAX_AHEAD + WRITER_GRACE)


def outside_writable_window(captured_at: datetime, now: datetime) -> str | None:
    """Why the writer refuses a read's capture time (its partition would fall outside the window), or None."""
    first, last = writable_months(now)
    if captured_at.tzinfo is None:
        return f"captured_at {captured_at.isoformat()} has no time zone"
    try:
        month = month_of(captured_at)
    except (OverflowError, ValueError):
        return f"captured_at {captured_at!r} cannot be placed in a month"
    if not first <= month <= last:
        return (f"captured_at {captured_at.isoformat()} falls outside the months the writer keeps"
                f" ({first:%Y-%m} to {last:%Y-%m})")
    return None


def premade_months(now: datetime) -> list[datetime]:
    """The months whose partitions exist before any read needs them: the current one ± 1."""
    current = month_of(now)
    previous = month_of(current - timedelta(days=1))
    return [previous, current, next_month(current)]


def _hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)
