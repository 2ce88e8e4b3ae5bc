"""One camera's health as a pure state machine.

The supervisor reports facts (connecting, streaming, a packet's age, a lost
stream with its reason, the spool filling up); the machine decides the state
and returns a Transition for each change, which the supervisor publishes and
stores. Nothing here does I/O or reads a clock: ``now`` is always passed in.

    starting → connecting → streaming ⇄ stalled
                   ↑            ↓ lost (network reason)
               reconnecting ←───┘ ── longer than offline_after_s ──→ offline
    any → error(reason)   for reasons retrying cannot fix quickly, and for a camera
                          that never streamed and cannot be reached
    any → disabled | stopped
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from domain.backoff import reconnect_delay
from domain.camera_state import CameraState, ErrorReason

# Reasons that a camera coming back fixes by itself: retry fast, then call it offline.
NETWORK_REASONS = frozenset({ErrorReason.UNREACHABLE, ErrorReason.TIMEOUT, ErrorReason.DISCONNECTED})


@dataclass(frozen=True)
class Transition:
    previous: CameraState
    state: CameraState
    reason: ErrorReason | None
    detail: str | None
    at: datetime


@dataclass(frozen=True)
class HealthPolicy:
    stall_after_s: float = 5.0  # no packet for this long while streaming → stalled
    offline_after_s: float = 60.0  # unreachable for this long → offline (and slower retries)
    first_retry_s: float = 0.5
    fast_retry_cap_s: float = 1.0  # while a network outage is young: a camera back is recording within ~2 s
    retry_cap_s: float = 30.0


class HealthMachine:
    def __init__(self, policy: HealthPolicy, now: datetime) -> None:
        self.policy = policy
        self.state = CameraState.STARTING
        self.reason: ErrorReason | None = None
        self.detail: str | None = None
        self.since = now
        self.outage_since: datetime | None = None  # first failure of the current outage
        self.ever_streamed = False

    def _go(self, state: CameraState, now: datetime, reason: ErrorReason | None = None,
            detail: str | None = None) -> Transition | None:
        if (state, reason) == (self.state, self.reason):
            self.detail = detail or self.detail
            return None
        transition = Transition(self.state, state, reason, detail, now)
        self.state, self.reason, self.detail, self.since = state, reason, detail, now
        return transition

    def connecting(self, now: datetime) -> Transition | None:
        if self.outage_since is not None:
            return None  # keep showing the outage (reconnecting / error / offline) while retrying
        return self._go(CameraState.CONNECTING, now)

    def streaming(self, now: datetime) -> Transition | None:
        self.outage_since = None
        self.ever_streamed = True
        return self._go(CameraState.STREAMING, now)

    def lost(self, reason: ErrorReason, detail: str | None, now: datetime) -> Transition | None:
        """The stream could not be opened, or ended, for ``reason``.

        A camera that never streamed and cannot be reached is most likely
        misconfigured (wrong address): that is an error, not an outage.
        """
        if self.outage_since is None:
            self.outage_since = now
        if reason in NETWORK_REASONS and self.ever_streamed:
            offline = (now - self.outage_since).total_seconds() >= self.policy.offline_after_s
            return self._go(CameraState.OFFLINE if offline else CameraState.RECONNECTING, now, reason, detail)
        return self._go(CameraState.ERROR, now, reason, detail)

    def stalled(self, detail: str, now: datetime) -> Transition | None:
        """The stream went silent (the ingest's read timed out)."""
        if self.state != CameraState.STREAMING:
            return None
        return self._go(CameraState.STALLED, now, ErrorReason.TIMEOUT, detail)

    def storage_failed(self, reason: ErrorReason, detail: str, now: datetime) -> Transition | None:
        """Recording cannot continue safely (spool budget exhausted)."""
        return self._go(CameraState.ERROR, now, reason, detail)

    def tick(self, now: datetime, *, last_packet_age_s: float | None) -> Transition | None:
        """Time passing: detect stalls and outages that became long enough to be offline."""
        if (self.state == CameraState.STREAMING and last_packet_age_s is not None
                and last_packet_age_s >= self.policy.stall_after_s):
            return self._go(CameraState.STALLED, now, ErrorReason.TIMEOUT,
                            f"no packet for {last_packet_age_s:.1f} s")
        if self.state == CameraState.STALLED and last_packet_age_s is not None \
                and last_packet_age_s < self.policy.stall_after_s:
            return self._go(CameraState.STREAMING, now)
        if (self.state == CameraState.RECONNECTING and self.outage_since is not None
                and (now - self.outage_since).total_seconds() >= self.policy.offline_after_s):
            return self._go(CameraState.OFFLINE, now, self.reason, self.detail)
        return None

    def stopped(self, now: datetime) -> Transition | None:
        return self._go(CameraState.STOPPED, now)

    def retry_delay(self, attempt: int, now: datetime, rng: random.Random | None = None) -> float:
        """Seconds before reconnect ``attempt`` (0-based) of the current outage.

        Network outages are retried fast (capped at ``fast_retry_cap_s``) until the
        camera is offline; errors such as a wrong password back off to
        ``retry_cap_s`` so the camera is not hammered. Full jitter keeps cameras
        that dropped together from retrying together.
        """
        p = self.policy
        young = self.outage_since is None or (now - self.outage_since).total_seconds() < p.offline_after_s
        cap = p.fast_retry_cap_s if young and self.reason in NETWORK_REASONS else p.retry_cap_s
        return reconnect_delay(attempt, first_s=p.first_retry_s, cap_s=cap, rng=rng)
