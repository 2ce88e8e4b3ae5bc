"""The one bounded retry loop: capped exponential backoff with jitter (domain/backoff.py), a per-attempt
timeout, and a limit on attempts — for every place that must outlast a store, database or actor that is down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from domain.backoff import reconnect_delay

T = TypeVar("T")

_log = logging.getLogger(__name__)


class GaveUp(Exception):
    """Every attempt failed; ``__cause__`` is the last failure."""


async def retrying(
    attempt: Callable[[], Awaitable[T]], *, what: str, attempts: int | None = None, first_s: float = 0.5,
    cap_s: float = 10.0, timeout_s: float | None = None, on_failure: Callable[[Exception], None] | None = None,
    log: logging.Logger = _log,
) -> T:
    """``attempt()`` until it returns; ``attempts=None`` retries for as long as the caller lives (it is cancelled
    with its owner). Each failure is logged and passed to ``on_failure``; after ``attempts`` failures, GaveUp."""
    failures = 0
    while True:
        try:
            if timeout_s is None:
                return await attempt()
            return await asyncio.wait_for(attempt(), timeout_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures += 1
            if on_failure is not None:
                on_failure(exc)
            if attempts is not None and failures >= attempts:
                raise GaveUp(f"{what}: gave up after {failures} attempts") from exc
            delay = reconnect_delay(failures - 1, first_s=first_s, cap_s=cap_s)
            log.warning("cannot %s (attempt %d, retry in %.1f s): %s", what, failures, delay, exc)
            await asyncio.sleep(delay)
