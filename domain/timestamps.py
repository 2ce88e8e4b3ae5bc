"""Timestamp rules for one camera's packets (pure): backfilling and discontinuities.

See docs/time.md for why runs end where they do.
"""

from __future__ import annotations

from dataclasses import dataclass

# A backwards DTS step larger than this, or a forward one larger than
# MAX_FORWARD_JUMP_S, is a timestamp reset/jump: the run ends and a new one starts.
MAX_BACKWARD_STEP_S = 1.0
MAX_FORWARD_JUMP_S = 10.0
# The host's wall clock moved against the monotonic clock by more than this: NTP step.
WALL_CLOCK_STEP_S = 1.0


@dataclass(frozen=True)
class Stamp:
    pts: int | None
    dts: int | None


def backfill(held: list[Stamp], next_dts: int, frame_ticks: int) -> list[tuple[int, int]]:
    """(pts, dts) for packets FFmpeg handed over without a DTS, before one with ``next_dts``.

    FFmpeg's RTSP client gives the first keyframe no timestamps at all, and with
    B-frames also the next packet or two no DTS. Their DTS are the ones that
    must have preceded ``next_dts`` one frame apart; a missing PTS (the
    keyframe) is one frame before the earliest PTS that follows, and never
    before its own DTS.
    """
    known_pts = [s.pts for s in held if s.pts is not None]
    earliest_pts = min(known_pts, default=next_dts)
    stamped: list[tuple[int, int]] = []
    for i, stamp in enumerate(held):
        dts = next_dts - (len(held) - i) * frame_ticks
        pts = stamp.pts if stamp.pts is not None else earliest_pts - frame_ticks
        stamped.append((max(pts, dts), dts))
    return stamped


def is_discontinuity(previous_dts_s: float, dts_s: float) -> bool:
    """Whether a video DTS step means the camera's timeline was reset or jumped."""
    step = dts_s - previous_dts_s
    return step < -MAX_BACKWARD_STEP_S or step > MAX_FORWARD_JUMP_S
