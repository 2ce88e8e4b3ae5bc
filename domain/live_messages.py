"""How a live viewer's pending fragments become WebSocket messages.

Each message through Serve's proxy costs far more CPU than its bytes, so what a
viewer has pending goes out as one message: consecutive fMP4 fragments
concatenated (MediaSource appends several moof/mdat pairs at once). An init
segment is always a message of its own, so "a message starting with ftyp is an
init" stays true for clients. When the path keeps up, a viewer has one fragment
pending and gets it alone, at once; when it falls behind, messages grow by
themselves instead of queueing. A message is cut at ``max_bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.viewer_queue import Outgoing


@dataclass(frozen=True)
class LiveMessage:
    """One binary WebSocket message and the pieces it carries, in order."""

    pieces: tuple[Outgoing, ...]

    @property
    def is_init(self) -> bool:
        return self.pieces[0].is_init

    @property
    def data(self) -> bytes:
        if len(self.pieces) == 1:
            return self.pieces[0].data
        return b"".join(p.data for p in self.pieces)

    def meta(self) -> dict[str, Any]:
        """The ``?meta=1`` text message sent before it: the first piece's fields, and every piece's."""
        first = self.pieces[0]
        return {"seq": first.seq, "keyframe": first.keyframe, "init": first.is_init,
                "received_at": first.received_at,
                "pieces": [{"seq": p.seq, "keyframe": p.keyframe, "received_at": p.received_at, "bytes": len(p.data)}
                           for p in self.pieces]}


def live_messages(items: list[Outgoing], max_bytes: int = 4 * 1024**2) -> list[LiveMessage]:
    """``items`` (oldest first) as messages: each init alone, runs of fragments joined up to ``max_bytes``."""
    messages: list[LiveMessage] = []
    run: list[Outgoing] = []
    size = 0
    for item in items:
        if run and (item.is_init or size + len(item.data) > max_bytes):
            messages.append(LiveMessage(tuple(run)))
            run, size = [], 0
        if item.is_init:
            messages.append(LiveMessage((item,)))
            continue
        run.append(item)
        size += len(item.data)
    if run:
        messages.append(LiveMessage(tuple(run)))
    return messages


def send_interval_s(viewers: int, messages_per_send: int, min_interval_s: float, messages_per_s: float) -> float:
    """How long a viewer waits after a send before its next one.

    At least ``min_interval_s`` (fragments arriving meanwhile go out together; a
    viewer idle for longer than that is sent at once), and long enough that the
    replica's ``viewers`` together stay within ``messages_per_s`` — what the
    ingress in front of it carries — so a crowd makes messages bigger, not more.
    """
    if messages_per_s <= 0:
        return min_interval_s
    return max(min_interval_s, viewers * messages_per_send / messages_per_s)
