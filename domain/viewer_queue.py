"""What a live viewer has yet to be sent, and what happens when it falls behind.

A slow viewer must never make the server hold more and more video for it. Its
queue is bounded in bytes and items; on overflow everything queued is dropped
and the viewer skips to the next keyframe (the next fragment it can decode
from). The init segment is never dropped: without it nothing after decodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Outgoing:
    """One message for a viewer: an init segment or a fragment, with what the client may want to know."""

    data: bytes
    keyframe: bool = False
    is_init: bool = False
    seq: int = 0
    received_at: float = 0.0  # when the camera actor received the frame (epoch s)


@dataclass
class ViewerQueue:
    max_bytes: int = 8 * 1024**2
    max_items: int = 600
    dropped: int = 0  # fragments dropped because the viewer fell behind
    _items: list[Outgoing] = field(default_factory=list)
    _bytes: int = 0
    _init: Outgoing | None = None
    _waiting_for_keyframe: bool = True  # a viewer always starts at a keyframe

    def put(self, item: Outgoing) -> None:
        if item.is_init:
            self._init = item
            return
        if self._waiting_for_keyframe and not item.keyframe:
            self.dropped += 1
            return
        if self._bytes + len(item.data) > self.max_bytes or len(self._items) >= self.max_items:
            inits = [i for i in self._items if i.is_init]
            if inits and self._init is None:
                self._init = inits[-1]  # still unsent: the next fragment needs it
            self.dropped += len(self._items) - len(inits)
            self._items.clear()
            self._bytes = 0
            if not item.keyframe:
                self._waiting_for_keyframe = True
                self.dropped += 1
                return
        self._waiting_for_keyframe = False
        if self._init is not None:  # an init goes out before the first fragment that needs it
            self._items.append(self._init)
            self._init = None
        self._items.append(item)
        self._bytes += len(item.data)

    def take(self) -> list[Outgoing]:
        """Everything ready to send, oldest first."""
        items, self._items, self._bytes = self._items, [], 0
        return items

    def __len__(self) -> int:
        return len(self._items)
