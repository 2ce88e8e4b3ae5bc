"""The Fleet: reconciles PostgreSQL's enabled cameras with running supervisors.

Like a Kubernetes controller, it compares desired state (the ``cameras`` table)
with what the camera hosts report, and starts or stops supervisors to close the
gap — at start and every ``reconcile_interval_s``. Actors are disposable: a
host that died comes back (max_restarts=-1) empty and is refilled on the next
pass; a restarted Fleet re-attaches to the named hosts. The platform's other
named actors (clip exporter, retention, LPR writer) are poked each pass too: Ray restarts
a crashed actor empty, and its idempotent ``start()`` brings its schedule back.

On a cluster (docs/cluster.md) hosts are pinned to nodes offering
``camera_slots`` (node affinity, not soft: a host's spool is that node's
disk). New cameras go to the node with the lowest share of its slots in use
(so a node that joins takes them); a host whose node is gone is forgotten and
its cameras placed again on the others at once; every camera node seen for the
first time (a node that joined, or came back) gets a spool sweep that stores
what cameras moved away left there (actors/spool_sweep.py).

It also places every city's coordinator on a city host (actors/city_hosts.py),
in the same pass and the same way as cameras.

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
import contextlib
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Coroutine
from typing import Any, cast
from uuid import UUID

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from actor_client.client import ActorClient
from actor_client.names import host_name, host_slot
from actors.camera_host import RUNTIME_ENV as HOST_RUNTIME_ENV
from actors.camera_host import CameraHost
from actors.city_hosts import CityHosts
from actors.host_actor import host_actor, named_hosts
from actors.metrics import FleetMetrics
from actors.platform_actor import PlatformActor
from actors.spool_sweep import sweep_node_spool
from domain.density import cameras_per_host, hosts_wanted
from domain.placement import LOCAL, HostLoad, camera_nodes, choose_node, choose_slot, lost_hosts, reconcile
from domain.quarantine import CrashBook, Quarantine, Split
from domain.sealing import sealer_for
from domain.settings import Settings
from services.camera_alert_watch import TICK_S, AlertWatch
from services.edge_paths import follow_cameras
from storage import cameras, tenant_health
from storage.log_context import log_context

log = logging.getLogger(__name__)

_CALL_TIMEOUT_S = 30.0
_SWEEP_TIMEOUT_S = 600.0  # a node's whole leftover spool; a sweep cut short runs again


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
        self._host_node: dict[int, str] = {}  # slot → the node it is pinned to (LOCAL: not pinned)
        self._next_slot = 0  # slots are never reused: a forgotten host's name may be held until it is gone
        self._nodes: dict[str, float] = {LOCAL: math.inf}  # camera nodes alive at the last pass → their slots
        self._sweeps: dict[str, asyncio.Task[dict[str, Any]]] = {}  # camera node → its spool sweep
        self._placement: dict[UUID, int] = {}  # camera → slot
        self._passes = 0
        self._metrics = FleetMetrics()
        self._host_pids: dict[int, int] = {}  # slot → the process last seen; another one means a restart
        self._alerts = AlertWatch()
        self._cities = CityHosts(settings)  # every city's coordinator, densely hosted
        self._crashes: CrashBook[UUID] = CrashBook(settings.quarantine_after_crashes, settings.quarantine_window_s)
        self._pinned: dict[UUID, int] = {}  # camera → the reserved slot it must run on (split or quarantined)
        self._reserved: set[int] = set()  # slots that take no camera but their pinned ones

    async def _prepare(self) -> None:
        await self._find_hosts()
        await self.reconcile_once()

    async def _find_hosts(self) -> None:
        """Camera hosts outlive the Fleet (they are detached): after Ray restarted a crashed Fleet, take over the
        hosts still running, with their cameras and nodes, so that the crash interrupts no recording. At a
        deployment's first start, hosts left by an earlier one run its settings: retire them."""
        found = await asyncio.to_thread(named_hosts, self.settings, host_slot)
        if not self.restarted:
            for slot, handle in found.items():
                log.warning("camera host %d was left by an earlier start: retired", slot)
                ray.kill(handle, no_restart=True)
            return
        nodes = camera_nodes(await asyncio.to_thread(ray.nodes))
        for slot, handle in sorted(found.items()):
            try:
                node, running = await asyncio.gather(self._call(handle.node.remote()),
                                                     self._call(handle.running.remote()))
            except Exception as exc:  # dead or restarting: its cameras are placed again like any crashed host's
                log.warning("camera host %d not taken over: %s", slot, exc)
                node, running = None, {}
            self._hosts[slot] = handle
            self._host_node[slot] = node if node in nodes else LOCAL
            self._placement.update(dict.fromkeys(running, slot))
            self._next_slot = max(self._next_slot, slot + 1)
        log.warning("restarted: took over %d camera hosts running %d cameras", len(found), len(self._placement))

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
        for sweep in self._sweeps.values():
            sweep.cancel()
        await asyncio.gather(*self._sweeps.values(), return_exceptions=True)
        self._sweeps.clear()
        await asyncio.gather(
            *(self._call(h.shutdown.remote()) for h in self._hosts.values()), return_exceptions=True
        )
        for handle in self._hosts.values():
            ray.kill(handle, no_restart=True)
        self._hosts.clear()
        self._host_node.clear()
        self._placement.clear()
        await self._cities.close()

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
        await self._follow_nodes()
        running: dict[UUID, str] = {}
        slots = list(self._hosts)
        # at once: a host on a node that just died answers only when Ray declares the node dead (ActorDiedError)
        answers = await asyncio.gather(*(self._call(self._hosts[slot].running.remote()) for slot in slots),
                                       return_exceptions=True)
        for slot, reported in zip(slots, answers, strict=True):
            died = True  # if it answers without cameras it had, it died and came back
            if isinstance(reported, BaseException):  # host dead or restarting: its cameras count as stopped
                log.warning("host %d did not answer: %s", slot, reported)
                died = isinstance(reported, ray.exceptions.RayActorError)  # not a mere timeout
                reported = {}
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
        spread_over = hosts_wanted(cores, self.settings.cameras_per_host)
        for cid in plan.start:
            pinned = self._pinned.get(cid)
            if pinned is not None:  # split off or quarantined: its reserved host, on that host's node
                slot, node = pinned, self._host_node.get(pinned) or self._next_node()
            else:
                node = self._next_node()
                slot = choose_slot(self._host_loads(), node, per_host, first_free=self._next_slot,
                                   spread_over=spread_over, reserved=self._reserved)
            try:
                # the password is opened here, for the host that opens the stream (docs/security/secrets.md)
                await self._call(self._host(slot, node).add.remote(desired[cid].spec(self._sealer)))
            except Exception as exc:
                log.error("could not start camera %s on host %d: %s", cid, slot, exc)
                continue
            self._placement[cid] = slot
            started += 1
        self._passes += 1
        try:
            await self._cities.reconcile(self.pool)
        except Exception:  # cameras first: a city-host problem must not stop recording's reconcile
            log.exception("city coordinators not reconciled; retrying next pass")
        return {"started": started, "stopped": len(plan.stop)}

    def _host_crashed(self, slot: int, cameras: list[UUID]) -> None:
        verdict = self._crashes.crashed(slot, cameras, time.monotonic())
        if isinstance(verdict, Split):
            fresh = max([*self._hosts, *self._reserved, self._next_slot - 1]) + 1  # never a forgotten slot
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

    def _next_node(self) -> str:
        return choose_node(self._nodes, Counter(self._host_node[s] for s in self._placement.values()))

    def _host_loads(self) -> dict[int, HostLoad]:
        return {slot: HostLoad(self._host_node[slot], n) for slot, n in self._load().items()}

    def _host(self, slot: int, node: str) -> Any:
        if slot not in self._hosts:
            pinned = {} if node == LOCAL else {  # the host's spool is this node's disk: it never moves
                "scheduling_strategy": NodeAffinitySchedulingStrategy(node, soft=False)}
            # detached: a crash of the Fleet (its owner otherwise) must not take every camera down with it
            self._hosts[slot] = host_actor(CameraHost, host_name(slot), self.settings, slot, with_metrics=True,
                                           ray_options={"runtime_env": HOST_RUNTIME_ENV, "lifetime": "detached",
                                                        **pinned})
            self._host_node[slot] = node
            self._next_slot = max(self._next_slot, slot + 1)
        return self._hosts[slot]

    # --- nodes: who offers camera slots, who is gone, whose spool to sweep --

    async def _follow_nodes(self) -> None:
        self._nodes = camera_nodes(await asyncio.to_thread(ray.nodes))
        for slot in lost_hosts(self._host_node, self._nodes):
            self._forget_host(slot)
        for node in [n for n in self._sweeps if n not in self._nodes]:  # gone: one entry per live node at most
            self._sweeps.pop(node).cancel()
        for node in self._nodes:
            sweep = self._sweeps.get(node)
            failed = sweep is not None and sweep.done() and (sweep.cancelled() or sweep.exception() is not None)
            if node != LOCAL and (sweep is None or failed):
                self._sweeps[node] = asyncio.create_task(self._sweep(node), name=f"spool-sweep-{node[:8]}")

    def _forget_host(self, slot: int) -> None:
        """The host's node is gone: its cameras are placed again this pass; its spool waits for the node."""
        handle, node = self._hosts.pop(slot), self._host_node.pop(slot)
        self._reserved.discard(slot)  # its pinned cameras start over on a shared host (quarantine is memory only)
        for cid in [c for c, s in self._pinned.items() if s == slot]:
            del self._pinned[cid]
        lost = [cid for cid, s in self._placement.items() if s == slot]
        for cid in lost:
            del self._placement[cid]
        log.warning("node %s is gone: camera host %d and its %d cameras are placed again", node, slot, len(lost))
        with contextlib.suppress(Exception):  # already dead with its node
            ray.kill(handle, no_restart=True)

    async def _sweep(self, node: str) -> dict[str, Any]:
        ref = (cast(Any, ray.remote(sweep_node_spool))
               .options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False), num_cpus=0,
                        max_retries=0)
               .remote(self.settings))
        try:
            result: dict[str, Any] = await asyncio.wait_for(ref, _SWEEP_TIMEOUT_S)
        except Exception:
            log.exception("spool sweep of node %s failed; it runs again next pass", node)
            raise
        if result["chunks"]:
            log.info("node %s: stored %d chunks (%d bytes) that cameras moved away had left in %s", node,
                     result["chunks"], result["bytes"], result["spool_root"])
        return result

    async def node_report(self) -> dict[str, Any]:
        """Camera nodes (→ slots), camera → node, and the spool sweeps finished (node → what they stored)."""
        return {"nodes": dict(self._nodes),
                "cameras": {str(cid): self._host_node[slot] for cid, slot in self._placement.items()},
                "sweeps": {node: task.result() for node, task in self._sweeps.items()
                           if task.done() and not task.cancelled() and task.exception() is None}}

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
            status["node"] = self._host_node.get(slot) or None
        return status

    async def host_of(self, camera_id: UUID) -> str | None:
        """The name of the camera host running ``camera_id`` (a named Ray actor), if any."""
        slot = self._placement.get(camera_id)
        return None if slot is None else host_name(slot)

    async def city_state(self, tenant_id: UUID) -> dict[str, Any] | None:
        """The city's state as its coordinator holds it (services/city_coordinator.py), with the host's name."""
        try:
            return await self._cities.state(tenant_id)
        except Exception as exc:  # the host is restarting: the next pass places the city again
            log.warning("state of city %s unavailable: %s", tenant_id, exc)
            return None

    async def placement(self) -> dict[str, str]:
        return {str(cid): host_name(slot) for cid, slot in self._placement.items()}


def _cores() -> int:
    """CPU cores of the Ray cluster (camera hosts ask for no CPU, so all of them are the hosts' to share)."""
    try:
        return max(1, int(ray.cluster_resources().get("CPU", 0)))
    except Exception:  # not connected (a test without Ray): this machine
        return os.cpu_count() or 1
