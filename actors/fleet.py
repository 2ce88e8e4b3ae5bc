"""The Fleet: reconciles PostgreSQL's enabled cameras with running supervisors.

Like a Kubernetes controller, it compares desired state (the ``cameras`` table)
with what the camera hosts report, and starts or stops supervisors to close the
gap — at start and every ``reconcile_interval_s``. Actors are disposable: a
host that died comes back (max_restarts=-1) empty and is refilled on the next
pass; a restarted Fleet re-attaches to the named hosts. The platform's other
named actors (clip exporter, retention, LPR writer) are poked each pass too: Ray restarts
a crashed actor empty, and its idempotent ``start()`` brings its schedule back.

How many cameras share a host comes from the machine unless configured
(domain/density.py); a host that keeps crashing is split until the camera
that crashes it sits alone on a host of its own (domain/quarantine.py). Which
cameras are quarantined is the Fleet's memory only: a restarted Fleet packs
them again, and a camera still crashing is found again.

The Fleet also runs the camera alert watch (services/camera_alert_watch.py):
it already looks after every camera of every city, and the watch rebuilds from
PostgreSQL when the Fleet restarts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import Coroutine
from typing import Any
from uuid import UUID

import ray

from actor_client.client import ActorClient
from actor_client.names import host_name
from actors.camera_host import RUNTIME_ENV as HOST_RUNTIME_ENV
from actors.camera_host import CameraHost
from actors.metrics import FleetMetrics
from actors.platform_actor import PlatformActor
from domain.density import cameras_per_host, hosts_wanted
from domain.placement import choose_host, reconcile
from domain.quarantine import CrashBook, Quarantine, Split
from domain.sealing import sealer_for
from domain.settings import Settings
from services.camera_alert_watch import TICK_S, AlertWatch
from services.edge_paths import follow_cameras
from storage import cameras, tenant_health
from storage.log_context import log_context

log = logging.getLogger(__name__)

_CALL_TIMEOUT_S = 30.0


class Fleet(PlatformActor):
    """Owns placement of cameras onto camera hosts (Ray actors named camera-host-N).

    ``start()`` reconciles once, then keeps reconciling in the background until ``stop()``, which stops every
    camera (each stores what it recorded) before the pool closes."""

    uses_store = False
    uses_bus = True  # camera.offline / camera.online / tenant.health (the alert watch)
    works_without_bus = True  # placement goes on without the bus; alerts are stored and counted as lost events
    pool_size = 3  # reconcile, metrics and the alert watch each hold at most one connection

    def __init__(self, settings: Settings, keep_started: tuple[str, ...] = ()) -> None:
        super().__init__(settings)
        self._sealer = sealer_for(settings)
        self._keep_started = keep_started  # names of actors whose start() each pass calls
        self._actors = ActorClient(settings.namespace)
        self._hosts: dict[int, Any] = {}  # slot → actor handle
        self._placement: dict[UUID, int] = {}  # camera → slot
        self._passes = 0
        self._metrics = FleetMetrics()
        self._host_pids: dict[int, int] = {}  # slot → the process last seen; another one means a restart
        self._alerts = AlertWatch()
        self._crashes: CrashBook[UUID] = CrashBook(settings.quarantine_after_crashes, settings.quarantine_window_s)
        self._pinned: dict[UUID, int] = {}  # camera → the reserved slot it must run on (split or quarantined)
        self._reserved: set[int] = set()  # slots that take no camera but their pinned ones

    async def _prepare(self) -> None:
        await self.reconcile_once()

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        return [self._reconcile_forever(), self._measure_forever(self._metrics), self._watch_alerts_forever()]

    async def _watch_alerts_forever(self) -> None:
        """Camera offline/online alerts and city health pushes, one tick a second (rebuilt after any failure)."""
        rebuilt = False
        while True:
            try:
                if not rebuilt:
                    await self._alerts.rebuild(self.pool)
                    rebuilt = True
                await self._alerts.tick(self.pool, self.bus)
            except Exception:  # PostgreSQL away: start again from what it holds once it is back
                log.exception("camera alert watch failed; rebuilding on the next tick")
                rebuilt = False
            await asyncio.sleep(TICK_S)

    async def _close(self) -> None:
        await asyncio.gather(
            *(self._call(h.shutdown.remote()) for h in self._hosts.values()), return_exceptions=True
        )
        for handle in self._hosts.values():
            ray.kill(handle, no_restart=True)
        self._hosts.clear()
        self._placement.clear()

    async def _reconcile_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reconcile_interval_s)
            try:
                await self.reconcile_once()
            except Exception:
                log.exception("reconcile pass failed; retrying next interval")
            self._poke_services()

    async def _measure(self) -> None:
        """Cameras per city and state, cameras per host, and host restarts."""
        self._metrics.cameras(await tenant_health.states_by_city(self.pool))
        self._metrics.hosts({host_name(slot): n for slot, n in self._load().items()})
        for slot, handle in list(self._hosts.items()):
            try:
                pid = await self._call(handle.pid.remote())
            except Exception:  # dead or restarting: the restart shows as a new process next round
                continue
            if self._host_pids.setdefault(slot, pid) != pid:
                log.warning("camera host %d restarted (process %d, was %d)", slot, pid, self._host_pids[slot])
                self._metrics.host_restarted(host_name(slot))
                self._host_pids[slot] = pid

    def _poke_services(self) -> None:
        for name in self._keep_started:
            try:
                self._actors.start_service(name)
            except Exception as exc:  # not there (yet): the launcher creates them
                log.debug("service %s not poked: %s", name, exc)

    async def reconcile_once(self) -> dict[str, int]:
        """One pass: returns how many cameras were started and stopped."""
        desired = {c.id: c for c in await cameras.list_enabled(self.pool)}
        if self.settings.edge_api_url:  # MediaMTX's cam/{id} paths follow the cameras, before recorders read them
            await follow_cameras(self.settings, desired.values())  # never raises; bounded (docs/edge.md)
        running: dict[UUID, str] = {}
        for slot, handle in list(self._hosts.items()):
            try:
                reported = await self._call(handle.running.remote())
                died = True  # if it answers without cameras it had, it died and came back
            except Exception as exc:  # host dead or restarting: its cameras count as stopped
                log.warning("host %d did not answer: %s", slot, exc)
                reported, died = {}, isinstance(exc, ray.exceptions.RayActorError)  # not a mere timeout
            lost = [c for c, s in self._placement.items() if s == slot and c not in reported]
            for cid in lost:
                del self._placement[cid]
            if lost and died:
                self._host_crashed(slot, lost)
            running.update(reported)
        plan = reconcile({cid: c.revision for cid, c in desired.items()}, running)
        for cid in plan.stop:
            placed = self._placement.pop(cid, None)
            if placed is None:
                continue
            try:
                await self._call(self._hosts[placed].remove.remote(cid))
            except Exception as exc:  # the host is gone: so is the camera
                log.warning("could not stop camera %s on host %d: %s", cid, placed, exc)
        started = 0
        cores = _cores()
        per_host = cameras_per_host(len(desired), cores, self.settings.cameras_per_host)
        hosts = hosts_wanted(cores, self.settings.cameras_per_host)
        for cid in plan.start:
            pinned = self._pinned.get(cid)
            slot = pinned if pinned is not None else choose_host(self._load(), per_host, hosts=hosts,
                                                                 reserved=self._reserved)
            try:
                # the password is opened here, for the host that opens the stream (docs/security/secrets.md)
                await self._call(self._host(slot).add.remote(desired[cid].spec(self._sealer)))
            except Exception as exc:
                log.error("could not start camera %s on host %d: %s", cid, slot, exc)
                continue
            self._placement[cid] = slot
            started += 1
        self._passes += 1
        return {"started": started, "stopped": len(plan.stop)}

    def _host_crashed(self, slot: int, cameras: list[UUID]) -> None:
        verdict = self._crashes.crashed(slot, cameras, time.monotonic())
        if isinstance(verdict, Split):
            fresh = max([*self._hosts, *self._reserved], default=-1) + 1
            self._reserved.add(fresh)
            for cid in verdict.move:
                self._pinned[cid] = fresh
            log.warning("camera host %d keeps crashing: %d of its cameras move to host %d", slot,
                        len(verdict.move), fresh)
        elif isinstance(verdict, Quarantine):
            self._reserved.add(slot)
            self._pinned[verdict.camera] = slot
            log.error("camera %s keeps crashing its host: quarantined alone on host %d", verdict.camera, slot)

    async def quarantined(self) -> list[str]:
        """The cameras found to crash their host, each now alone on a host of its own."""
        return sorted(str(c) for c in self._crashes.quarantined)

    def _load(self) -> dict[int, int]:
        load = Counter(self._placement.values())
        return {slot: load.get(slot, 0) for slot in self._hosts}

    def _host(self, slot: int) -> Any:
        if slot not in self._hosts:
            self._hosts[slot] = (
                ray.remote(CameraHost)
                .options(
                    name=host_name(slot), namespace=self.settings.namespace, get_if_exists=True,
                    max_restarts=-1, max_concurrency=1000, num_cpus=0, runtime_env=HOST_RUNTIME_ENV,
                )
                .remote(self.settings, slot, with_metrics=True)
            )
        return self._hosts[slot]

    async def _call(self, ref: Any) -> Any:
        return await asyncio.wait_for(ref, _CALL_TIMEOUT_S)

    async def camera_status(self, camera_id: UUID, request_id: str | None = None) -> dict[str, Any] | None:
        """The supervisor's status, or None if the camera is not running; lines logged carry the API's request id."""
        with log_context(request_id=request_id, camera_id=camera_id):
            return await self._camera_status(camera_id)

    async def _camera_status(self, camera_id: UUID) -> dict[str, Any] | None:
        slot = self._placement.get(camera_id)
        if slot is None:
            return None
        try:
            status = await self._call(self._hosts[slot].status.remote(camera_id))
        except Exception as exc:  # host crashed or restarting: the next pass places the camera again
            log.warning("status of camera %s: host %d unavailable: %s", camera_id, slot, exc)
            return None
        if status is not None:
            status["host"] = host_name(slot)
        return status

    async def host_of(self, camera_id: UUID) -> str | None:
        """The name of the camera host running ``camera_id`` (a named Ray actor), if any."""
        slot = self._placement.get(camera_id)
        return None if slot is None else host_name(slot)

    async def placement(self) -> dict[str, str]:
        return {str(cid): host_name(slot) for cid, slot in self._placement.items()}


def _cores() -> int:
    """CPU cores of the Ray cluster (camera hosts ask for no CPU, so all of them are the hosts' to share)."""
    try:
        return max(1, int(ray.cluster_resources().get("CPU", 0)))
    except Exception:  # not connected (a test without Ray): this machine
        return os.cpu_count() or 1
