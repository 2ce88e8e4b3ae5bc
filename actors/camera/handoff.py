"""The hand-off from a camera's ingest thread to its event loop.

PyAV blocks, so ingest runs on a thread of its own, while the camera's queues,
events and counters are asyncio objects that only the loop may touch. Every
call the ingest thread makes into the loop's side goes through one hand-off,
bound once when the supervisor starts.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVarTuple

Ts = TypeVarTuple("Ts")


class LoopHandoff:
    """Runs a call on the camera's event loop, whichever thread makes it."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def bind(self) -> None:
        """Bind to the running loop; called on it, before the ingest thread starts."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    def __call__(self, call: Callable[[*Ts], object], *args: *Ts) -> None:
        if self._loop is None:  # not started: nobody on the loop side is waiting yet
            return
        if threading.get_ident() == self._loop_thread:
            call(*args)  # at once, so what the caller awaits next already sees it
        else:
            self._loop.call_soon_threadsafe(call, *args)
