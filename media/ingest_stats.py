"""What a camera's ingest measures as packets arrive: frame rate, bit rate, keyframe interval, drops."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class IngestStats:
    """Live counters of one camera's ingest, read by the status endpoint."""

    window_s: float = 5.0
    packets: int = 0
    dropped: int = 0
    last_packet_at: float | None = None  # time.monotonic()
    keyframe_interval_s: float | None = None  # media time between the last two keyframes
    _last_keyframe_media_s: float | None = None
    _video: deque[tuple[float, int]] = field(default_factory=deque)

    def on_keyframe(self, media_s: float) -> None:
        if self._last_keyframe_media_s is not None and media_s > self._last_keyframe_media_s:
            self.keyframe_interval_s = round(media_s - self._last_keyframe_media_s, 3)
        self._last_keyframe_media_s = media_s

    def on_packet(self, size: int, is_video: bool, at: float) -> None:
        self.packets += 1
        self.last_packet_at = at
        if is_video:
            self._video.append((at, size))
            while self._video and self._video[0][0] < at - self.window_s:
                self._video.popleft()

    def fps(self) -> float | None:
        if len(self._video) < 2:
            return None
        span = self._video[-1][0] - self._video[0][0]
        return (len(self._video) - 1) / span if span > 0 else None

    def bitrate_bps(self) -> float | None:
        if len(self._video) < 2:
            return None
        span = self._video[-1][0] - self._video[0][0]
        return sum(s for _, s in list(self._video)[1:]) * 8 / span if span > 0 else None
