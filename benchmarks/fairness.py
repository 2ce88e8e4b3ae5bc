"""Cities cannot hurt each other: what city B gets while city A floods, against B alone, in the same run.

Three things B's people notice, each measured twice on the same parts — once
with B alone, once while A floods — and reported as a ratio (flooded / alone;
``worst_ratio`` is the largest, the target is ≤ 1.2):

- **clip-job wait**: from B's ``POST /clips``-equivalent (a queued job) to an
  exporter claiming it; two exporters claim with the real fair claim
  (storage/clips.py ``claim_next``) and export for ``--export-ms`` each. A's
  flood: 100 queued jobs first.
- **alert p99**: from publishing an alert on B's stream (Redis) to B's
  operator's ``/events`` socket receiving it, through the API under uvicorn.
  A's flood: 50 open sockets of A (one subscription for all of them; read by
  a process of their own, as A's browsers are other machines), A's own
  alerts at ``--flood-rate`` a second, and plate reads with images past A's
  storage quota written by the LPR writer's batch path meanwhile.
- **live first frame**: B's viewer admitted (the city's lease, PostgreSQL) and
  its first keyframe from a real camera supervisor recording the RTSP test
  camera in this process (the path a live socket takes, without Ray's hop).
  A's flood: 50 admitted live viewers of A and the above.

Real PostgreSQL (a database of its own), Redis and the GStreamer RTSP test
camera; the machine is shared, so the run says what it saw, not a promise.

    .venv/bin/python -m benchmarks.fairness --out benchmarks/results/fairness.json
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.report import base_parser, publish

PER_CITY_SOCKETS = 50


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Flood:
    """City A flooding: its alerts on its stream and plate reads past its quota, until stopped."""

    def __init__(self, pool: asyncpg.Pool, bus: Any, city: uuid.UUID, camera: uuid.UUID, rate: float) -> None:
        self.pool, self.bus, self.city, self.camera, self.rate = pool, bus, city, camera, rate
        self.alerts = self.reads = 0

    async def run(self) -> None:
        from domain.events import tenant_stream
        from domain.lpr.queued_read import QueuedRead
        from storage import lpr_events

        stream, tick = tenant_stream(self.city), 0
        while True:
            await self.bus.publish(stream, {"type": "alert", "kind": "flood", "n": tick})
            self.alerts += 1
            tick += 1
            if tick % 20 == 0:  # a batch of 50 reads with 20 kB of images each, as the LPR writer stores them
                now = datetime.now(UTC)
                batch = []
                for _ in range(50):
                    read_id = uuid.uuid4()
                    batch.append(QueuedRead(id=read_id, tenant_id=self.city, camera_id=self.camera,
                                            sender="generic", plate="FLD0D00", captured_at=now, received_at=now,
                                            dedupe_key=f"k:{read_id}", image_keys=(f"t/{self.city}/lpr/{read_id}.jpg",),
                                            image_bytes=20_000))
                await lpr_events.store_batch(self.pool, batch)
                self.reads += len(batch)
            await asyncio.sleep(1 / self.rate)


async def _clip_waits(pool: asyncpg.Pool, b: uuid.UUID, b_camera: uuid.UUID, jobs: int, export_s: float) -> list[float]:
    """B queues ``jobs`` jobs one after another (each once the previous one was claimed); seconds each waited."""
    from storage import clips

    claimed: dict[uuid.UUID, float] = {}
    finished: dict[uuid.UUID, asyncio.Event] = {}
    claim_seen = asyncio.Event()
    stop = asyncio.Event()

    async def exporter() -> None:
        while not stop.is_set():
            job = await clips.claim_next(pool)
            if job is None:
                await asyncio.sleep(0.02)
                continue
            claimed[job.id] = time.monotonic()
            claim_seen.set()
            await asyncio.sleep(export_s)
            await clips.finish(pool, job.id, object_key=f"t/{job.tenant_id}/clips/{job.id}.mp4", size=1,
                               sha256="0" * 64, first_frame_at=job.start_at, last_frame_at=job.end_at)
            finished.setdefault(job.id, asyncio.Event()).set()

    workers = [asyncio.create_task(exporter()) for _ in range(2)]
    waits = []
    now = datetime.now(UTC)
    try:
        for _ in range(jobs):
            queued_at = time.monotonic()
            job = await clips.create(pool, b, b_camera, uuid.uuid4(), now - timedelta(minutes=5),
                                     now - timedelta(minutes=4))
            while True:
                claim_seen.clear()  # cleared before looking: nothing runs between the two
                if job.id in claimed:
                    break
                await claim_seen.wait()
            waits.append(claimed[job.id] - queued_at)
            # B's next job once this one is done: B never waits behind its own job (its plan runs one at a time).
            await finished.setdefault(job.id, asyncio.Event()).wait()
    finally:
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
    return waits


async def _alert_latencies(base: str, http: Any, headers: dict[str, str], bus: Any, city: uuid.UUID,
                           alerts: int) -> list[float]:
    from websockets.asyncio.client import connect

    from domain.events import tenant_stream

    ticket = (await http.post("/api/v1/events/ticket", headers=headers)).json()["ticket"]
    latencies = []
    async with connect(f"{base}/events?ticket={ticket}", open_timeout=10) as ws:
        json.loads(await ws.recv())  # ready
        for n in range(alerts):
            sent = time.monotonic()
            await bus.publish(tenant_stream(city), {"type": "alert", "kind": "bench", "n": n})
            while json.loads(await asyncio.wait_for(ws.recv(), 10))["event"].get("n") != n:
                pass
            latencies.append(time.monotonic() - sent)
            await asyncio.sleep(0.02)
    return latencies


async def _first_frames(pool: asyncpg.Pool, supervisor: Any, city: uuid.UUID, camera: uuid.UUID,
                        viewers: int) -> list[float]:
    from services import viewer_admission
    from storage import live_viewers

    times = []
    for _ in range(viewers):
        started = time.monotonic()
        lease = await viewer_admission.admit(pool, city, camera, None)
        pieces: list[Any] = []
        while not any(p.keyframe for p in pieces):
            pieces = await supervisor.live_frames(None, 5.0)
        times.append(time.monotonic() - started)
        await live_viewers.remove(pool, lease)
        await asyncio.sleep(0.05)
    return times


@contextlib.asynccontextmanager
async def _world(tmp: Path) -> AsyncIterator[dict[str, Any]]:
    """Own database, Redis prefix, API under uvicorn, the RTSP test camera and B's camera supervisor."""
    from actors.camera import CameraSupervisor
    from domain.rbac import Role
    from domain.settings import Settings
    from storage import plans, tenants
    from storage.bus import RedisBus
    from storage.db import create_pool, migrate
    from storage.objects import open_object_store
    from tests.support.asgi_api import served_api
    from tests.support.cameras import camera_spec
    from tests.support.databases import create_database, drop_database
    from tests.support.ports import free_port
    from tests.support.rtsp_camera import RtspTestCamera
    from tests.support.sessions import access_headers, new_bearer
    from tests.support.system import REDIS_URL, drop_redis_keys

    dsn = await create_database()
    pool = await create_pool(dsn, max_size=8)
    prefix = f"gtv-fairness-{uuid.uuid4().hex[:8]}:"
    camera = RtspTestCamera(free_port(), ["cam"])
    bus = RedisBus(REDIS_URL, prefix=prefix)
    try:
        await migrate(pool)
        plan = await plans.create(pool, name="fairness", retention_days=30, camera_quota=10, manager_quota=5,
                                  viewer_quota=5, storage_quota_bytes=1_000_000, clip_jobs_max=200,
                                  live_viewers_max=100)
        cities = {}
        for name in ("A", "B"):
            tenant = await tenants.create(pool, f"fairness {name}")
            await plans.assign(pool, tenant.id, plan.id)
            cities[name] = tenant.id
        await asyncio.to_thread(camera.start)
        spec = await camera_spec(pool, camera.url("cam"), cities["B"])
        a_camera = uuid.uuid4()
        await pool.execute("INSERT INTO cameras (id, tenant_id, name, rtsp_url, enabled) VALUES ($1, $2, 'a',"
                           " 'rtsp://127.0.0.1:9/x', false)", a_camera, cities["A"])
        settings = Settings(database_url=dsn, object_store_url=(tmp / "objects").as_uri(),
                            public_url="http://127.0.0.1:1", secret=uuid.uuid4().hex,
                            bus_url=f"{REDIS_URL}?prefix={prefix}", spool_dir=str(tmp / "spool"),
                            event_sockets_per_user=PER_CITY_SOCKETS, event_sockets_per_city=500)
        supervisor = CameraSupervisor(spec, open_object_store((tmp / "objects").as_uri()), pool,
                                      spool_root=tmp / "spool", bus=None, chunk_max_s=2)
        await supervisor.start()
        headers = {name: access_headers(settings, await new_bearer(pool, Role.MANAGER, city))
                   for name, city in cities.items()}
        try:
            async with served_api(settings) as (base, http):
                yield {"pool": pool, "bus": bus, "base": base, "http": http, "headers": headers, "cities": cities,
                       "b_camera": spec.camera_id, "a_camera": a_camera, "supervisor": supervisor}
        finally:
            await supervisor.stop()
    finally:
        await bus.close()
        await pool.close()
        await asyncio.to_thread(camera.stop)
        await drop_database(dsn)
        await drop_redis_keys(prefix)


async def _measure_b(world: dict[str, Any], samples: int, export_s: float) -> dict[str, list[float]]:
    b = world["cities"]["B"]
    return {
        "clip_wait_s": await _clip_waits(world["pool"], b, world["b_camera"], samples, export_s),
        "alert_s": await _alert_latencies(world["base"], world["http"], world["headers"]["B"], world["bus"], b,
                                          samples * 10),
        "first_frame_s": await _first_frames(world["pool"], world["supervisor"], b, world["b_camera"], samples),
    }


async def run(samples: int, export_ms: float, flood_rate: float) -> dict[str, Any]:
    from services import viewer_admission
    from storage import clips

    export_s = export_ms / 1000
    with tempfile.TemporaryDirectory() as tmp:
        async with _world(Path(tmp)) as world:
            pool, a = world["pool"], world["cities"]["A"]
            await asyncio.sleep(3)  # the camera streaming
            alone = await _measure_b(world, samples, export_s)

            now = datetime.now(UTC)
            for _ in range(100):
                await clips.create(pool, a, world["a_camera"], uuid.uuid4(), now - timedelta(minutes=5),
                                   now - timedelta(minutes=4))
            for _ in range(PER_CITY_SOCKETS):
                await viewer_admission.admit(pool, a, world["a_camera"], None)
            urls = []
            for _ in range(PER_CITY_SOCKETS):
                ticket = (await world["http"].post("/api/v1/events/ticket", headers=world["headers"]["A"])
                          ).json()["ticket"]
                urls.append(f"{world['base']}/events?ticket={ticket}")
            # A's browsers are other machines: their reading is kept out of this process (benchmarks/socket_drain.py).
            browsers = await asyncio.create_subprocess_exec(sys.executable, "-m", "benchmarks.socket_drain", *urls,
                                                            stdout=asyncio.subprocess.PIPE)
            assert browsers.stdout is not None
            assert (await asyncio.wait_for(browsers.stdout.readline(), 60)).strip() == b"open"
            flood = Flood(pool, world["bus"], a, world["a_camera"], flood_rate)
            flooding = asyncio.create_task(flood.run())
            try:
                flooded = await _measure_b(world, samples, export_s)
            finally:
                flooding.cancel()
                await asyncio.gather(flooding, return_exceptions=True)
                browsers.terminate()
                await browsers.wait()
            a_queued = (await clips.count_by_state(pool, a))["queued"]

    def summary(values: list[float], stat: str) -> float:
        return round(_p(values, 0.99) if stat == "p99" else statistics.median(values), 4)

    measures = {"clip_wait_s": "p50", "alert_s": "p99", "first_frame_s": "p50"}
    result: dict[str, Any] = {}
    for name, stat in measures.items():
        b_alone, b_flooded = summary(alone[name], stat), summary(flooded[name], stat)
        result[name] = {"statistic": stat, "alone": b_alone, "while_a_floods": b_flooded,
                        "ratio": round(b_flooded / b_alone, 2) if b_alone else None,
                        "samples": len(flooded[name])}
    ratios = [m["ratio"] for m in result.values() if m["ratio"] is not None]
    return {"samples": samples, "export_ms": export_ms, "flood": {
                "a_clip_jobs": 100, "a_clip_jobs_still_queued": a_queued, "a_event_sockets": PER_CITY_SOCKETS,
                "a_live_viewers": PER_CITY_SOCKETS, "a_alerts_published": flood.alerts,
                "a_plate_reads_written": flood.reads, "a_plate_image_bytes": flood.reads * 20_000,
                "a_quota_bytes": 1_000_000},
            **result, "worst_ratio": max(ratios) if ratios else None, "target_ratio": 1.2}


def main() -> None:
    parser = base_parser(__doc__, 0.0)
    parser.add_argument("--samples", type=int, default=20, help="clip jobs and first frames of B (alerts: 10×)")
    parser.add_argument("--export-ms", type=float, default=200.0, help="how long one simulated export takes")
    parser.add_argument("--flood-rate", type=float, default=50.0,
                        help="A's alerts per second (each goes to A's 50 sockets: 50× the messages)")
    args = parser.parse_args()
    publish("fairness", asyncio.run(run(args.samples, args.export_ms, args.flood_rate)), args.out)


if __name__ == "__main__":
    main()
