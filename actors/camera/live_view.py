"""The camera's live view as its readers see it.

The ingest thread feeds a ``LiveFeed`` (media/live.py) while it records; this
part wakes the readers waiting on the camera's event loop whenever something
new arrives, so a viewer long-polls for frames instead of asking over and
over. The feed itself answers the rest at once: the init segments, the live
HLS window and the latest keyframe for snapshots.
"""

from __future__ import annotations

import asyncio
import time

from actors.camera.handoff import LoopHandoff
from media.live import LiveFeed, LivePiece

_LONGEST_WAIT_S = 30.0  # however long a reader asks to wait, a long poll holds a call on the camera's host no longer


class LiveView:
    """The live feed the ingest thread writes, and the long poll its readers wait in."""

    def __init__(self, handoff: LoopHandoff) -> None:
        self._handoff = handoff
        self.feed = LiveFeed(notify=self._changed)
        self._news = asyncio.Event()
        self._waiting = 0  # readers in a long poll

    def _changed(self) -> None:  # ingest thread
        # Nobody waiting, nobody to wake: every GOP of every camera would otherwise wake the host's event loop.
        # A reader counts itself before it reads, so what arrives after it read still wakes it.
        if self._waiting:
            self._handoff(self._wake_readers)

    def _wake_readers(self) -> None:
        # Replaced, not cleared: every reader waiting on the old event wakes, and the next wait blocks until newer news.
        news, self._news = self._news, asyncio.Event()
        news.set()

    async def frames(self, after_seq: int | None, wait_s: float) -> list[LivePiece]:
        """Frame fragments after ``after_seq``, waiting up to ``wait_s`` for the first (a long poll)."""
        deadline = time.monotonic() + min(wait_s, _LONGEST_WAIT_S)
        self._waiting += 1
        try:
            while True:
                news = self._news  # taken before reading, so news arriving in between is not missed
                pieces = self.feed.frames_after(after_seq)
                remaining = deadline - time.monotonic()
                if pieces or remaining <= 0:
                    return pieces
                try:
                    await asyncio.wait_for(news.wait(), remaining)
                except TimeoutError:
                    return []
        finally:
            self._waiting -= 1
