"""Typed calls to the platform's named actors: the Fleet, the camera hosts, the clip exporter, retention.

Callers get one method per actor call, with its arguments and result typed and
its timeout set, instead of looking actors up by name and methods by string.
Calls that may log on the actor's side (a camera's status, a retention pass) carry the API request's id, which
the actor sets as its log context for the call (storage/log_context.py).

Camera calls go to the host that runs the camera. The Fleet knows which; asking
it on every live request would put it on the hot path, so the client remembers
the answer for a few seconds and forgets it as soon as a call fails (the camera
moved or its host died).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import ray

from actor_client.names import CLIP_EXPORTER_NAME, FLEET_NAME, RETENTION_NAME
from media.live import Keyframe, LiveGop, LivePiece
from storage.log_context import current_request_id

_REMEMBER_S = 10.0


class CameraNotRunning(Exception):
    """The camera has no running supervisor right now (disabled, starting, or its host is gone)."""


class ActorClient:
    """The actors of one deployment (a Ray namespace); calls time out after ``call_timeout_s`` unless said."""

    def __init__(self, namespace: str, call_timeout_s: float = 10.0) -> None:
        self._namespace = namespace
        self._timeout_s = call_timeout_s
        self._known: dict[UUID, tuple[Any, float]] = {}  # camera → (host handle, when learnt)

    # --- the Fleet ---------------------------------------------------------

    async def camera_status(self, camera_id: UUID) -> dict[str, Any] | None:
        """The camera's supervisor status, or None when it is not placed; raises if the Fleet does not answer."""
        result: dict[str, Any] | None = await self._ask(
            self._actor(FLEET_NAME).camera_status.remote(camera_id, request_id=current_request_id()))
        return result

    async def city_state(self, tenant_id: UUID, timeout_s: float | None = None) -> dict[str, Any] | None:
        """The city's state as its coordinator holds it, or None when it is not placed yet."""
        result: dict[str, Any] | None = await self._ask(self._actor(FLEET_NAME).city_state.remote(tenant_id),
                                                        timeout_s)
        return result

    # --- the camera's host; CameraNotRunning if there is none or it answers None ---

    # ``sub``: the camera's sub-stream (its main stream if it has none), opened by the call if it is not.

    async def live_frames(self, camera_id: UUID, after_seq: int | None, wait_s: float,
                          sub: bool = False) -> list[LivePiece]:
        """Fragments after ``after_seq`` (from the latest keyframe if None), waiting up to ``wait_s`` for one."""
        pieces: list[LivePiece] = await self._on_host(
            camera_id, lambda host: host.live_frames.remote(camera_id, after_seq, wait_s, sub),
            wait_s + self._timeout_s)
        return pieces

    async def live_init(self, camera_id: UUID, init_id: int, sub: bool = False) -> bytes:
        """The fMP4 init segment ``init_id`` of the live stream."""
        init: bytes = await self._on_host(camera_id, lambda host: host.live_init.remote(camera_id, init_id, sub))
        return init

    async def live_gops(self, camera_id: UUID, sub: bool = False) -> list[LiveGop]:
        """The live HLS window, timing only (no data)."""
        gops: list[LiveGop] = await self._on_host(
            camera_id, lambda host: host.live_gops.remote(camera_id, sub=sub))
        return gops

    async def live_gop(self, camera_id: UUID, seq: int, sub: bool = False) -> LiveGop:
        """One GOP of the live window, with its data."""
        gop: LiveGop = await self._on_host(camera_id, lambda host: host.live_gop.remote(camera_id, seq, sub))
        return gop

    async def keyframe(self, camera_id: UUID) -> Keyframe:
        """The latest keyframe, for a live snapshot."""
        keyframe: Keyframe = await self._on_host(camera_id, lambda host: host.keyframe.remote(camera_id))
        return keyframe

    # --- services ------------------------------------------------------------

    def wake_clip_exporter(self) -> None:
        """Tell the clip exporter a job was queued (without waiting); raises if it is not there."""
        self._actor(CLIP_EXPORTER_NAME).wake.remote()

    async def run_retention(self, trigger: str, timeout_s: float) -> dict[str, Any]:
        """Run a retention pass now and wait for its result; TimeoutError after ``timeout_s``."""
        result: dict[str, Any] = await self._ask(
            self._actor(RETENTION_NAME).run_now.remote(trigger, request_id=current_request_id()), timeout_s)
        return result

    async def retention_health(self, timeout_s: float = 30.0) -> dict[str, Any]:
        """When retention last finished a pass, whether one is running, and whether it is stalled."""
        health: dict[str, Any] = await self._ask(self._actor(RETENTION_NAME).health.remote(), timeout_s)
        return health

    def start_service(self, name: str) -> None:
        """Poke the named service's idempotent ``start()`` (without waiting); raises if it is not there."""
        self._actor(name).start.remote()

    # --- plumbing ------------------------------------------------------------

    def _actor(self, name: str) -> Any:
        # Never ray.get_actor's implicit ray.init: outside Ray (the app under plain uvicorn) it would join whatever
        # Ray cluster this machine runs, or hang for minutes on a stale one (seen in the clip tests).
        if not ray.is_initialized():
            raise RuntimeError(f"actor {name}: this process is not connected to Ray")
        return ray.get_actor(name, namespace=self._namespace)

    async def _ask(self, ref: Any, timeout_s: float | None = None) -> Any:
        return await asyncio.wait_for(ref, timeout_s or self._timeout_s)

    async def _on_host(self, camera_id: UUID, call: Callable[[Any], Any], timeout_s: float | None = None) -> Any:
        """``call(host)`` on the camera's host; forgets the host when the call fails or finds no camera."""
        host = await self._host(camera_id)
        try:
            result = await self._ask(call(host), timeout_s)
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
            name: str | None = await self._ask(self._actor(FLEET_NAME).host_of.remote(camera_id))
            if name is None:
                raise CameraNotRunning("the camera is not running")
            handle = self._actor(name)
        except CameraNotRunning:
            raise
        except Exception as exc:
            raise CameraNotRunning(f"the fleet did not answer: {type(exc).__name__}") from exc
        self._known[camera_id] = (handle, time.monotonic())
        return handle
