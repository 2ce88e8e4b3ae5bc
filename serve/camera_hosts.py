"""Calling the camera host that runs a camera, from an API replica.

The Fleet knows where each camera runs; asking it on every live request would
put it on the hot path, so a replica remembers the answer for a few seconds
and forgets it as soon as a call fails (the camera moved or its host died).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from uuid import UUID

import ray

from actors.fleet import FLEET_NAME

log = logging.getLogger(__name__)

_REMEMBER_S = 10.0


class CameraNotRunning(Exception):
    """The camera has no running supervisor right now (disabled, starting, or its host is gone)."""


class CameraHosts:
    def __init__(self, namespace: str, call_timeout_s: float = 10.0) -> None:
        self._namespace = namespace
        self._timeout_s = call_timeout_s
        self._known: dict[UUID, tuple[Any, float]] = {}  # camera → (host handle, when learnt)

    async def call(self, camera_id: UUID, method: str, *args: Any, timeout_s: float | None = None) -> Any:
        """``host.method(camera_id, *args)``; raises CameraNotRunning if there is no host or it answers None."""
        handle = await self._host(camera_id)
        try:
            result = await asyncio.wait_for(getattr(handle, method).remote(camera_id, *args),
                                            timeout_s or self._timeout_s)
        except Exception as exc:  # actor died, restarting, or too slow
            self._known.pop(camera_id, None)
            raise CameraNotRunning(f"the camera's host did not answer: {type(exc).__name__}") from exc
        if result is None:
            self._known.pop(camera_id, None)
            raise CameraNotRunning("the camera is not running")
        return result

    async def _host(self, camera_id: UUID) -> Any:
        known = self._known.get(camera_id)
        if known is not None and time.monotonic() - known[1] < _REMEMBER_S:
            return known[0]
        try:
            fleet = ray.get_actor(FLEET_NAME, namespace=self._namespace)
            name: str | None = await asyncio.wait_for(fleet.host_of.remote(camera_id), self._timeout_s)
            if name is None:
                raise CameraNotRunning("the camera is not running")
            handle = ray.get_actor(name, namespace=self._namespace)
        except CameraNotRunning:
            raise
        except Exception as exc:
            raise CameraNotRunning(f"the fleet did not answer: {type(exc).__name__}") from exc
        self._known[camera_id] = (handle, time.monotonic())
        return handle
