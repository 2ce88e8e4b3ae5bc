"""GT-Vision on a three-node Ray cluster on this machine: a node joins, a node is lost mid-chunk, it comes back.

Run as a program (``python -m tests.support.node_loss_run …``), in a process of its own: a process has one Ray,
and a test session already has its local one. It prints one JSON object (its last line) that
tests/integration/test_cluster_nodes.py asserts on and benchmarks/cluster.py records:

1. join: a head and worker w1; two cameras record on w1. Worker w2 joins; two new cameras go to w2.
2. loss: w1 is killed while its cameras are mid-chunk; they record again on w2; w2's cameras keep recording; the
   API keeps answering.
3. return: w1 comes back with the same spool directory; what it had spooled is stored and indexed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import ray
from ray import serve

from actor_client.names import FLEET_NAME
from domain.camera import CameraSpec
from domain.recording import from_epoch_ms
from domain.settings import Settings
from storage import tenants
from storage.db import create_pool
from storage.spool import start_ms_of
from tests.support.camera_cluster import CameraCluster, describe, spooled_files
from tests.support.cameras import camera_spec, chunks_of, gaps_s
from tests.support.ports import free_port
from tests.support.system import ADMIN_PASSWORD, REDIS_URL, drop_redis_keys, start_system

NAMESPACE = f"gtv-cluster-{uuid.uuid4().hex[:8]}"
_STEP_S = 90.0  # every wait is bounded; a step that takes longer fails the run
_TOUCHING_S = 0.05  # consecutive chunks of one run touch (end == start); more is a gap


class Run:
    def __init__(self, nodes: CameraCluster, fleet: Any, pool: asyncpg.Pool, api: httpx.Client) -> None:
        self.nodes, self.fleet, self.pool, self.api = nodes, fleet, pool, api

    async def report(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.fleet.node_report.remote()
        return result

    async def wait(self, what: str, check: Any, timeout_s: float = _STEP_S) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if found := await check():
                return found
            await asyncio.sleep(0.25)
        names = {node_id: name for name, node_id in ((n, self.nodes.node_id(n)) for n in self.nodes.workers)}
        raise TimeoutError(f"{what}: not within {timeout_s:.0f} s; placement {describe(await self.report(), names)}")

    async def nodes_of(self, cameras: list[CameraSpec]) -> dict[str, str] | None:
        """Camera id → node id once every camera of the list is placed."""
        placed: dict[str, str] = (await self.report())["cameras"]
        found = {str(c.camera_id): placed.get(str(c.camera_id), "") for c in cameras}
        return found if all(found.values()) else None

    async def recorded_since(self, cameras: list[CameraSpec], since: datetime) -> bool:
        for spec in cameras:
            if not any(chunk.start >= since for chunk in await chunks_of(self.pool, spec)):
                return False
        return True

    def api_answers(self, headers: dict[str, str], tenant_id: str) -> str | None:
        """None when the API answers both requests, else what went wrong."""
        try:
            for answer in (self.api.get("/health"),
                           self.api.get("/cameras", params={"tenant_id": tenant_id}, headers=headers)):
                if answer.status_code != 200:
                    return f"{answer.request.url.path}: {answer.status_code} {answer.text[:200]}"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None


def settings_for(args: argparse.Namespace, nodes: CameraCluster, redis_prefix: str) -> Settings:
    port = free_port()
    return Settings(
        database_url=args.database_url, object_store_url=args.store_url, public_url=f"http://127.0.0.1:{port}",
        secret=uuid.uuid4().hex, namespace=NAMESPACE, bus_url=f"{REDIS_URL}?prefix={redis_prefix}", api_port=port,
        # 4 s chunks of 1 s GOPs: a camera's chunk is open (its .part on disk) 3 s in every 4, so the cameras of a
        # node are all mid-chunk together for at least 2 s of every 4. With 2 s chunks each camera's chunk is open
        # one second in two, and two cameras a second apart in phase are never open together.
        chunk_max_s=4, reconcile_interval_s=1, source_timeout_s=2, spool_dir=str(nodes.spool_of("head")),
        spool_fsync="none", camera_networks=("127.0.0.0/8",))


async def scenario(args: argparse.Namespace, nodes: CameraCluster, settings: Settings,
                   api: httpx.Client, admin: dict[str, str]) -> dict[str, Any]:
    pool = await create_pool(args.database_url, max_size=2)
    result: dict[str, Any] = {}
    try:
        run = Run(nodes, ray.get_actor(FLEET_NAME, namespace=NAMESPACE), pool, api)
        tenant = await tenants.create(pool, f"Cluster City {uuid.uuid4().hex[:6]}")
        w1 = nodes.node_id("w1")

        # 1. join
        first = [await camera_spec(pool, args.camera_url[i % len(args.camera_url)], tenant.id) for i in range(2)]
        placed = await run.wait("first cameras placed", lambda: run.nodes_of(first))
        await run.wait("first cameras recording", lambda: run.recorded_since(first, datetime.fromtimestamp(0, UTC)))
        w2 = nodes.add_worker("w2")
        await run.wait("w2 seen by the Fleet", lambda: _has_node(run, w2))
        second = [await camera_spec(pool, args.camera_url[i % len(args.camera_url)], tenant.id) for i in (2, 3)]
        joined = await run.wait("new cameras placed", lambda: run.nodes_of(second))
        result["chunk_s"] = settings.chunk_max_s
        result["join"] = {"first_on_w1": sum(n == w1 for n in placed.values()),
                          "new_on_w2": sum(n == w2 for n in joined.values()), "new_cameras": len(second)}
        everyone, joined_at = first + second, datetime.now(UTC)
        await run.wait("all cameras recording", lambda: run.recorded_since(everyone, joined_at))

        # 2. loss: the cameras w1 records, mid-chunk (their open .part files are there)
        where = await run.report()
        affected = [c for c in everyone if where["cameras"].get(str(c.camera_id)) == w1]
        unaffected = [c for c in everyone if c not in affected]
        open_parts = await run.wait("w1's cameras mid-chunk", lambda: _open_chunks(nodes.spool_of("w1"), affected))
        lost_at = datetime.now(UTC)
        lost_clock = time.monotonic()
        nodes.remove_worker("w1")
        answers, failures = 0, []
        replace_s = None
        deadline = time.monotonic() + _STEP_S
        while time.monotonic() < deadline:
            problem = await asyncio.to_thread(run.api_answers, admin, str(tenant.id))
            answers += problem is None
            failures += [problem] if problem else []
            now_on = (await run.report())["cameras"]
            if replace_s is None and all(now_on.get(str(c.camera_id)) == w2 for c in affected):
                replace_s = time.monotonic() - lost_clock
            if replace_s is not None and await run.recorded_since(affected, lost_at):
                break
            await asyncio.sleep(0.25)
        else:
            raise TimeoutError(f"the cameras of w1 did not record again within {_STEP_S:.0f} s")
        record_again_s = time.monotonic() - lost_clock
        left_in_spool = spooled_files(nodes.spool_of("w1"))

        # 3. return: w1 with the same disk
        back = nodes.add_worker("w1")
        sweep = await run.wait("w1's spool swept", lambda: _sweep_of(run, back))
        await run.wait("w1's spool empty", lambda: _empty(nodes.spool_of("w1")))
        await asyncio.sleep(2 * settings.chunk_max_s)  # the unaffected cameras keep recording through all of it

        # every chunk open on w1 when it was lost is in the index now: stored by the sweep after its return, or by
        # w1's own uploader in the second its processes outlive their raylet
        open_at_loss = {(p.parent.name, from_epoch_ms(start_ms_of(p))) for p in open_parts}
        indexed = {(str(c.camera_id), chunk.start) for c in affected for chunk in await chunks_of(pool, c)}
        gaps: dict[str, list[tuple[float, float]]] = {}  # camera → (seconds after the loss, gap seconds)
        for camera in everyone:
            chunks = await chunks_of(pool, camera)
            gaps[str(camera.camera_id)] = [((chunk.end - lost_at).total_seconds(), gap)
                                           for chunk, gap in zip(chunks, gaps_s(chunks), strict=False)
                                           if gap > _TOUCHING_S]
        result["loss"] = {
            "cameras_on_lost_node": len(affected), "cameras_unaffected": len(unaffected),
            "open_chunks_at_loss": len(open_parts), "replace_s": round(replace_s or -1, 2),
            "record_again_s": round(record_again_s, 2),
            "gap_s_per_affected_camera": [round(max((g for _, g in gaps[str(c.camera_id)]), default=0.0), 2)
                                          for c in affected],
            "unaffected_gaps": sum(len(gaps[str(c.camera_id)]) for c in unaffected),
            "unaffected_gap_details": [(round(at, 2), round(g, 2)) for c in unaffected for at, g in gaps[str(c.camera_id)]],
            "api_answers": answers, "api_failures": len(failures), "api_failure_details": failures[:5],
        }
        result["return"] = {"spooled_files_while_lost": len(left_in_spool), "sweep": sweep,
                            "open_chunks_at_loss_indexed": len(open_at_loss & indexed),
                            "spool_files_left": len(spooled_files(nodes.spool_of("w1")))}
        return result
    finally:
        await pool.close()


async def _has_node(run: Run, node_id: str) -> bool:
    return node_id in (await run.report())["nodes"]


async def _sweep_of(run: Run, node_id: str) -> dict[str, Any] | None:
    sweep: dict[str, Any] | None = (await run.report())["sweeps"].get(node_id)
    return sweep


async def _open_chunks(spool: Path, cameras: list[CameraSpec]) -> list[Path] | None:
    """Each camera's open chunk in ``spool``, once every one of them has one."""
    parts = [p for p in spooled_files(spool) if p.suffix == ".part"]
    recording = {p.parent.name for p in parts}
    return parts if all(str(c.camera_id) in recording for c in cameras) else None


async def _empty(spool: Path) -> bool:
    return not spooled_files(spool)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--store-url", required=True, help="an s3:// store (a cluster shares no directory)")
    parser.add_argument("--camera-url", required=True, action="append",
                        help="an RTSP test stream per camera (repeat; the four cameras take them in turn): a stream"
                             " of its own per camera, because a new client of a shared GStreamer stream makes its"
                             " other clients skip a few frames")
    parser.add_argument("--work", type=Path, required=True, help="where each node's spool directory goes")
    args = parser.parse_args(argv)
    nodes = CameraCluster(args.work)
    redis_prefix = f"gtv-cluster-{uuid.uuid4().hex[:8]}:"
    try:
        # before any worker: with several raylets on one address, the driver would attach to any of them, and it
        # must not be on a node this run kills
        ray.init(address=nodes.address, namespace=NAMESPACE, log_to_driver=False)
        nodes.add_worker("w1")
        settings = settings_for(args, nodes, redis_prefix)
        # Every node of this cluster has the address 127.0.0.1: one HTTP proxy (the head's), not one per node on
        # the same port. A real cluster keeps Serve's default, a proxy on every node.
        serve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": settings.api_port})
        runtime, api = start_system(settings)
        try:
            login = api.post("/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            assert login.status_code == 200, f"admin login: {login.status_code} {login.text}"
            admin = {"authorization": f"Bearer {login.json()['access_token']}"}
            result = asyncio.run(scenario(args, nodes, settings, api, admin))
        finally:
            api.close()
            runtime.stop()
    finally:
        ray.shutdown()
        nodes.shutdown()
        asyncio.run(drop_redis_keys(redis_prefix))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
