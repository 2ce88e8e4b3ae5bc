"""A run's clock: media seconds of one recording run mapped to UTC epoch milliseconds (docs/time.md)."""

from __future__ import annotations

import time
from collections.abc import Callable

from domain.timestamps import WALL_CLOCK_STEP_S


class RunClock:
    """Maps media seconds of one run to UTC epoch milliseconds.

    Until frozen, the start is the minimum over packets of (arrival − media
    offset): packets FFmpeg held back while probing arrive late and so never
    pull the start later than the first on-time packet says. It freezes at the
    first fragment so that chunks already written never move, and it never
    starts before ``not_before_ms`` (the previous run's end), so runs of one
    camera never overlap even if the host clock stepped back.
    """

    def __init__(self, now: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
                 not_before_ms: int | None = None) -> None:
        self._now = now
        self._monotonic = monotonic
        self._media0: float | None = None
        self._start_s: float | None = None
        self._frozen = False
        self._not_before_s = None if not_before_ms is None else not_before_ms / 1000
        self._wall_minus_monotonic = now() - monotonic()

    def observe(self, media_s: float) -> None:
        if self._frozen:
            return
        if self._media0 is None:
            self._media0 = media_s
        estimate = self._now() - (media_s - self._media0)
        self._start_s = estimate if self._start_s is None else min(self._start_s, estimate)

    def wall_ms(self, media_s: float) -> int:
        if self._start_s is None or self._media0 is None:
            raise RuntimeError("RunClock has seen no packet")
        if not self._frozen:
            self._frozen = True
            if self._not_before_s is not None:
                self._start_s = max(self._start_s, self._not_before_s)
        return round((self._start_s + media_s - self._media0) * 1000)

    def wall_clock_stepped(self) -> bool:
        """Whether the host's wall clock jumped (NTP step) since the run began."""
        return abs(self._now() - self._monotonic() - self._wall_minus_monotonic) > WALL_CLOCK_STEP_S
