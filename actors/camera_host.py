"""A camera host: one Ray actor process running K camera supervisors.

K = 1 isolates each camera in its own process; dense placement (K = 25–100)
is how a node carries hundreds of cameras: one Ray actor process costs ≈ 49 MiB
and ≈ 0.5 % of a core even idle, while a supervisor inside one costs a few KiB. The Fleet decides K.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from typing import Any
from uuid import UUID

import ray

from actors.camera import CameraSupervisor, MetricsSink
from actors.platform_actor import PlatformActor
from domain.camera import CameraSpec
from domain.camera_health import HealthPolicy
from domain.edge_credential import edge_credential
from domain.recorder_source import recorder_source
from domain.settings import Settings
from media.live import Keyframe, LiveGop, LivePiece
from storage.spool import FsyncPolicy, SpoolBudget, node_spool_root

log = logging.getLogger(__name__)

# Every ingest thread would get a glibc malloc arena of its own (up to 8 per core), each keeping the GOP-sized
# buffers it freed: two arenas keep a dense host's memory near what it holds. Buffers of 256 KiB and more are
# mapped and unmapped on their own rather than carved from, and kept in, the arenas (without a fixed threshold
# glibc raises it to whatever was last freed, and GOP-sized buffers stayed: 5.8 MiB per camera at 50 cameras);
# keyframes stay below it, since mapping each one cost page faults per keyframe (docs/density.md).
RUNTIME_ENV = {"env_vars": {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "262144"}}


class CameraHost(PlatformActor):
    """Runs the supervisors the Fleet places here; shares one DB pool and store client (opened on the first)."""

    pool_size = 4

    def __init__(self, settings: Settings, slot: int, *, with_metrics: bool = False) -> None:
        super().__init__(settings)
        self.slot = slot
        self._spool_root = node_spool_root(settings.spool_dir)
        self._budget = SpoolBudget(self._spool_root, settings.spool_max_bytes)
        self._policy = HealthPolicy(stall_after_s=settings.stall_after_s, offline_after_s=settings.offline_after_s)
        self._metrics: MetricsSink | None = None
        if with_metrics:
            from actors.metrics import CameraMetrics

            exporter = CameraMetrics()
            self._metrics = lambda status: exporter.record(self._tenant_of.get(status.camera_id, ""), status)
        self._tenant_of: dict[str, str] = {}
        self._supervisors: dict[UUID, CameraSupervisor] = {}
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        """What the Ray dashboard shows for this actor (evaluated once, when the process starts)."""
        return f"CameraHost(slot={self.slot}, node={_node_address()})"

    async def add(self, spec: CameraSpec) -> None:
        async with self._lock:
            if spec.camera_id in self._supervisors:
                await self._supervisors.pop(spec.camera_id).stop()
            await self.start()
            s = self.settings
            # with a MediaMTX edge the recorder reads its restream: the camera is opened once (docs/edge.md)
            spec = replace(spec, url=recorder_source(spec.camera_id, spec.url, s.edge_rtsp_url, edge_credential(s)))
            supervisor = CameraSupervisor(
                spec, self.store, self.pool, spool_root=self._spool_root, bus=self.bus, has_room=self._budget.has_room,
                fsync=FsyncPolicy(s.spool_fsync), policy=self._policy, chunk_max_s=s.chunk_max_s,
                source_timeout_s=s.source_timeout_s, metrics=self._metrics,
            )
            self._tenant_of[str(spec.camera_id)] = str(spec.tenant_id)
            await supervisor.start()
            self._supervisors[spec.camera_id] = supervisor
            log.info("host %d: camera %s started", self.slot, spec.camera_id)

    async def remove(self, camera_id: UUID) -> None:
        async with self._lock:
            supervisor = self._supervisors.pop(camera_id, None)
        if supervisor is not None:
            await supervisor.stop()
            log.info("host %d: camera %s stopped", self.slot, camera_id)

    async def running(self) -> dict[UUID, str]:
        """Camera id → configuration revision of every supervisor here."""
        return {cid: sup.spec.revision for cid, sup in self._supervisors.items()}

    async def pid(self) -> int:
        """This host's process id (for ops tooling and benchmarks that measure it)."""
        return os.getpid()

    async def node(self) -> str:
        """The Ray node this host runs on (a restarted Fleet learns where its hosts are)."""
        return str(ray.get_runtime_context().get_node_id())

    async def status(self, camera_id: UUID) -> dict[str, Any] | None:
        supervisor = self._supervisors.get(camera_id)
        return supervisor.status().to_json() if supervisor else None

    # --- live view: thin delegations; None when the camera is not here; ``sub``: its sub-stream ------

    async def live_frames(self, camera_id: UUID, after_seq: int | None, wait_s: float,
                          sub: bool = False) -> list[LivePiece] | None:
        supervisor = self._supervisors.get(camera_id)
        return await supervisor.live_frames(after_seq, wait_s, sub) if supervisor else None

    async def live_init(self, camera_id: UUID, init_id: int, sub: bool = False) -> bytes | None:
        supervisor = self._supervisors.get(camera_id)
        return supervisor.live_init(init_id, sub) if supervisor else None

    async def live_gops(self, camera_id: UUID, with_data: bool = False, sub: bool = False) -> list[LiveGop] | None:
        """The live HLS window; without data unless asked (a playlist needs only the timing)."""
        supervisor = self._supervisors.get(camera_id)
        if supervisor is None:
            return None
        gops = supervisor.live_gops(sub)
        return gops if with_data else [replace(g, parts=()) for g in gops]

    async def live_gop(self, camera_id: UUID, seq: int, sub: bool = False) -> LiveGop | None:
        supervisor = self._supervisors.get(camera_id)
        return next((g for g in supervisor.live_gops(sub) if g.seq == seq), None) if supervisor else None

    async def keyframe(self, camera_id: UUID) -> Keyframe | None:
        supervisor = self._supervisors.get(camera_id)
        return await asyncio.to_thread(supervisor.keyframe) if supervisor else None

    async def shutdown(self) -> None:
        """Stop every supervisor (each stores what it recorded) and release connections."""
        async with self._lock:
            supervisors, self._supervisors = list(self._supervisors.values()), {}
        await asyncio.gather(*(s.stop() for s in supervisors), return_exceptions=True)
        await self.stop()


def _node_address() -> str:
    try:
        import ray

        return str(ray.util.get_node_ip_address())
    except Exception:  # outside Ray
        return "local"
