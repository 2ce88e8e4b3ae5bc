"""What a camera's ingest measures as packets arrive: frame rate, bit rate, keyframe interval, drops.

Per packet it only bumps counters; twice a second it keeps a sample of them,
and the rates are read from the samples of the last ``window_s`` when someone
asks (status, metrics), not kept up to date on the hot path.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

_SAMPLE_EVERY_S = 0.5


@dataclass
class IngestStats:
    """Live counters of one camera's ingest, read by the status endpoint."""

    window_s: float = 5.0
    packets: int = 0
    dropped: int = 0
    last_packet_at: float | None = None  # time.monotonic()
    keyframe_interval_s: float | None = None  # media time between the last two keyframes
    _last_keyframe_media_s: float | None = None
    _video_packets: int = 0
    _video_bytes: int = 0
    _last_video_at: float = 0.0
    _next_sample_at: float = 0.0
    _samples: deque[tuple[float, int, int]] = field(default_factory=deque)  # (at, video packets, video bytes)

    def on_keyframe(self, media_s: float) -> None:
        if self._last_keyframe_media_s is not None and media_s > self._last_keyframe_media_s:
            self.keyframe_interval_s = round(media_s - self._last_keyframe_media_s, 3)
        self._last_keyframe_media_s = media_s

    def on_packet(self, size: int, is_video: bool, at: float) -> None:
        self.packets += 1
        self.last_packet_at = at
        if is_video:
            self._video_packets += 1
            self._video_bytes += size
            self._last_video_at = at
            if at >= self._next_sample_at:
                self._next_sample_at = at + _SAMPLE_EVERY_S
                self._samples.append((at, self._video_packets, self._video_bytes))
                while self._samples[0][0] < at - self.window_s:
                    self._samples.popleft()

    def _since_oldest(self) -> tuple[float, int, int] | None:
        """(seconds, video packets, video bytes) from the oldest sample in the window to the last video packet."""
        if not self._samples:
            return None
        at, packets, size = self._samples[0]
        span = self._last_video_at - at
        count = self._video_packets - packets
        return (span, count, self._video_bytes - size) if span > 0 and count > 0 else None

    def fps(self) -> float | None:
        since = self._since_oldest()
        return None if since is None else since[1] / since[0]

    def bitrate_bps(self) -> float | None:
        since = self._since_oldest()
        return None if since is None else since[2] * 8 / since[0]
