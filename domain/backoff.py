"""Reconnect delays: capped exponential backoff with full jitter.

Jitter keeps a fleet of cameras that dropped together from reconnecting in lockstep.
"""

from __future__ import annotations

import random


def reconnect_delay(
    attempt: int,
    *,
    first_s: float = 0.5,
    cap_s: float = 30.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before reconnect ``attempt`` (0 = the first retry).

    The ceiling doubles per attempt from ``first_s`` up to ``cap_s``; the delay is
    drawn between half the ceiling and the ceiling.
    """
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    ceiling = min(cap_s, first_s * 2.0 ** min(attempt, 32))
    draw = (rng or random).random()
    return ceiling / 2 + draw * ceiling / 2
