"""When a camera's outage becomes an alert: ``camera.offline`` once, ``camera.online`` once it is back for good.

A ``camera.status`` event goes out on every transition, which is too much for a
person to act on: a camera that flaps every 2 s would page someone 15 times a
minute. This rule turns a camera's transitions, and the clock, into at most one
``camera.offline`` alert per outage and one ``camera.online`` after it, with
hysteresis on both sides:

- **Down** means not recording: every state but ``streaming`` while the camera
  is meant to run. **Up** is ``streaming``. ``stopped`` and ``disabled`` mean
  nobody wants it to record (an admin disabled it, it is being moved or
  edited): that is not an outage, so it ends the timers but keeps an offline
  alert already raised open, to be closed when the camera records again.
- An **outage** starts at the first *failure* (``stalled``, ``reconnecting``,
  ``offline``, ``error``) and ends only once the camera has been up for
  ``online_after_s`` without a break. Recoveries shorter than that do not end
  it, so a flapping camera stays in one outage. ``starting`` and ``connecting``
  are down but start no outage: the health machine shows them only when its
  supervisor starts (during an outage it keeps showing the failure), so they
  say our process is starting, not that the camera failed; were they counted, a
  camera dropping within ``online_after_s`` of a (re)start would be reported
  down since before it dropped, and alerted early. A camera that never connects
  fails within the source's open timeout, and its outage starts there.
- ``camera.offline`` is raised when the outage is ``offline_after_s`` old and the
  camera is down at that moment; ``camera.online`` when, after an offline alert,
  the camera has been up for ``online_after_s``.

Nothing here does I/O or reads a clock: ``now`` is passed in (domain/camera_health.py works the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.camera_state import CameraState
from domain.errors import DomainError

UP = frozenset({CameraState.STREAMING})
NOT_WANTED = frozenset({CameraState.STOPPED, CameraState.DISABLED})  # no outage: nobody wants it recording
STARTING_UP = frozenset({CameraState.STARTING, CameraState.CONNECTING})  # down, but no failure yet

MIN_DELAY_S = 5
MAX_DELAY_S = 3600


class AlertKind(StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"


class InvalidAlertSettings(DomainError):
    """A city's alert delays are out of range."""


@dataclass(frozen=True)
class AlertSettings:
    """A city's delays (``tenants.camera_offline_after_s`` / ``camera_online_after_s``, migration 0016)."""

    offline_after_s: int = 30
    online_after_s: int = 10

    def __post_init__(self) -> None:
        for name in ("offline_after_s", "online_after_s"):
            value = getattr(self, name)
            if not MIN_DELAY_S <= value <= MAX_DELAY_S:
                raise InvalidAlertSettings(f"{name} must be between {MIN_DELAY_S} and {MAX_DELAY_S} s, not {value}")


@dataclass(frozen=True)
class CameraAlert:
    """One alert to raise: ``since`` is when the outage began (offline) or recording resumed (online)."""

    kind: AlertKind
    since: datetime
    at: datetime  # when the rule decided
    reason: str | None = None  # offline: the last reason the camera gave for being down
    offline_since: datetime | None = None  # online: when the outage it closes began


class CameraAlertRule:
    """One camera's outage and alert state; fed each transition in order, ticked with the clock."""

    def __init__(self) -> None:
        self.outage_since: datetime | None = None  # None: no outage
        self.up_since: datetime | None = None  # None: not recording now
        self.reason: str | None = None
        self.alerted_since: datetime | None = None  # the outage an open offline alert is about; None: no alert open
        self._pending: CameraAlert | None = None  # an online alert decided inside observe(), handed out by tick()

    @property
    def alerted(self) -> bool:
        return self.alerted_since is not None

    def observe(self, state: CameraState, reason: str | None, at: datetime, settings: AlertSettings) -> None:
        """A transition of the camera into ``state`` at ``at``."""
        if state in UP:
            if self.up_since is None:
                self.up_since = at
            return
        # Up long enough before this transition, even if no tick saw it: that outage ended back then.
        self._close_outage(at, settings)
        self.up_since = None
        if state in NOT_WANTED:
            self.outage_since = None
            return
        if state in STARTING_UP:
            return  # an outage already open goes on (a supervisor restarted mid-outage); none begins
        if self.outage_since is None:
            self.outage_since = at
        self.reason = reason or state.value

    def tick(self, now: datetime, settings: AlertSettings) -> list[CameraAlert]:
        """The alerts due at ``now`` (at most one of each kind)."""
        alerts = [self._pending] if self._pending else []
        self._pending = None
        self._close_outage(now, settings)
        if self._pending:
            alerts.append(self._pending)
            self._pending = None
        if (self.outage_since is not None and self.up_since is None and not self.alerted
                and (now - self.outage_since).total_seconds() >= settings.offline_after_s):
            self.alerted_since = self.outage_since
            alerts.append(CameraAlert(AlertKind.OFFLINE, self.outage_since, now, reason=self.reason))
        return alerts

    def _close_outage(self, now: datetime, settings: AlertSettings) -> None:
        if self.up_since is None or (now - self.up_since).total_seconds() < settings.online_after_s:
            return
        self.outage_since = None
        if self.alerted_since is not None:
            self._pending = CameraAlert(AlertKind.ONLINE, self.up_since, now, offline_since=self.alerted_since)
            self.alerted_since = None
