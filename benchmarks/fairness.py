"""Cities cannot hurt each other: what city B gets while city A floods, against B alone, in the same run.

Three things B's people notice, each measured with B alone and then while A
floods, in ``--rounds`` rounds, and reported as absolute values and a ratio
(flooded / alone over the pooled samples; ``worst_ratio`` is the largest, the
target is ≤ 1.2):

- **clip-job wait**: from B queueing a job (``clips.create`` then a wake, as
  ``POST /clips`` wakes the exporter) to an exporter claiming it. Two
  exporters run the product exporter's loop (claim with the fair
  ``claim_next``; nothing to claim: sleep until woken, 5 s at most) and
  export for ``--export-ms`` each. A's flood: 100 queued jobs.
- **alert p99**: from publishing an alert on B's stream (Redis) to B's
  ``/events`` socket receiving it through the API (at least 500 samples).
- **live first frame**: B's viewer admitted (the city's lease, PostgreSQL) and
  its first keyframe from B's camera supervisor recording the RTSP test
  camera (the path a live socket takes, without Ray's hop). A's flood: 50
  admitted live viewers.

Who runs where, as in production: the API is a process of its own
(``create_app`` under uvicorn: benchmarks/api_process.py, as a Serve replica
runs it). A's flood — its 50 ``/events`` sockets read, its alerts at
``--flood-rate`` a second (each sent to its 50 sockets), plate reads with
images past its storage quota stored as the LPR writer does — is another
process (benchmarks/city_flood.py) started at niceness +10: it stands for
other machines, so it must not take the measuring process's turns. B's
measuring clients, the exporters and the camera supervisor run here.

Real PostgreSQL (a database of its own), Redis and the GStreamer RTSP test
camera. The machine is shared: the JSON records its load average around each
phase and the API process's CPU share, so the run says what it saw.

    .venv/bin/python -m benchmarks.fairness --out benchmarks/results/fairness.json
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
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
import httpx

from benchmarks.report import base_parser, publish

PER_CITY_SOCKETS = 50
A_CLIP_JOBS = 100
MIN_ALERTS = 500
FLOOD_NICE = 10
_IDLE_LOOK_S = 5.0  # the product exporter's look at the queue without a wake (actors/clip_exporter.py)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Exporters:
    """Exporters running the product exporter's loop: claim fairly; nothing to claim, sleep until woken."""

    def __init__(self, pool: asyncpg.Pool, count: int, export_s: float) -> None:
        self.pool, self.export_s = pool, export_s
        self.claimed: dict[uuid.UUID, float] = {}
        self.claim_began: dict[uuid.UUID, float] = {}  # when the claim that took the job started
        self._claims: dict[uuid.UUID, asyncio.Event] = {}
        self._finished: dict[uuid.UUID, asyncio.Event] = {}
        self._wakes = [asyncio.Event() for _ in range(count)]
        self._tasks = [asyncio.create_task(self._run(wake)) for wake in self._wakes]

    def wake(self) -> None:
        """A job was queued (the API wakes the exporter after ``POST /clips``)."""
        for wake in self._wakes:
            wake.set()

    async def claimed_at(self, job: uuid.UUID) -> float:
        await self._claims.setdefault(job, asyncio.Event()).wait()
        return self.claimed[job]

    async def finished(self, job: uuid.UUID) -> None:
        await self._finished.setdefault(job, asyncio.Event()).wait()

    async def _run(self, wake: asyncio.Event) -> None:
        from storage import clips

        while True:
            wake.clear()  # before looking: a wake-up during the claim is not slept through
            began = time.monotonic()
            job = await clips.claim_next(self.pool)
            if job is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), _IDLE_LOOK_S)
                continue
            self.claimed[job.id], self.claim_began[job.id] = time.monotonic(), began
            self._claims.setdefault(job.id, asyncio.Event()).set()
            await asyncio.sleep(self.export_s)
            await clips.finish(self.pool, job.id, object_key=f"t/{job.tenant_id}/clips/{job.id}.mp4", size=1,
                               sha256="0" * 64, first_frame_at=job.start_at, last_frame_at=job.end_at)
            self._finished.setdefault(job.id, asyncio.Event()).set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _queue(pool: asyncpg.Pool, city: uuid.UUID, camera: uuid.UUID) -> uuid.UUID:
    from storage import clips

    now = datetime.now(UTC)
    return (await clips.create(pool, city, camera, uuid.uuid4(), now - timedelta(minutes=5),
                               now - timedelta(minutes=4))).id


async def _clip_waits(world: dict[str, Any], jobs: int) -> dict[str, list[float]]:
    """B queues ``jobs`` jobs one after another (each once the previous one is done: B's plan runs one at a
    time); seconds each waited to be claimed, and its parts: the insert, until a claim began, the claim."""
    pool, exporters = world["pool"], world["exporters"]
    parts: dict[str, list[float]] = {"clip_wait_s": [], "clip_insert_s": [], "clip_to_claim_s": [],
                                     "clip_claim_s": []}
    for _ in range(jobs):
        queued_at = time.monotonic()
        job = await _queue(pool, world["cities"]["B"], world["b_camera"])
        inserted_at = time.monotonic()
        exporters.wake()
        claimed_at = await asyncio.wait_for(exporters.claimed_at(job), 30)
        began = exporters.claim_began[job]
        parts["clip_wait_s"].append(claimed_at - queued_at)
        parts["clip_insert_s"].append(inserted_at - queued_at)
        parts["clip_to_claim_s"].append(max(0.0, began - inserted_at))
        parts["clip_claim_s"].append(claimed_at - max(began, inserted_at))
        await asyncio.wait_for(exporters.finished(job), 30)
    return parts


async def _alert_latencies(world: dict[str, Any], alerts: int) -> list[float]:
    from websockets.asyncio.client import connect

    from domain.events import tenant_stream

    stream = tenant_stream(world["cities"]["B"])
    ticket = (await world["http"].post("/api/v1/events/ticket", headers=world["headers"]["B"])).json()["ticket"]
    latencies = []
    async with connect(f"{world['base']}/events?ticket={ticket}", open_timeout=10) as ws:
        json.loads(await ws.recv())  # ready
        for n in range(alerts):
            sent = time.monotonic()
            await world["bus"].publish(stream, {"type": "alert", "kind": "bench", "n": n})
            while json.loads(await asyncio.wait_for(ws.recv(), 10))["event"].get("n") != n:
                pass
            latencies.append(time.monotonic() - sent)
            await asyncio.sleep(0.02)
    return latencies


async def _first_frames(world: dict[str, Any], viewers: int) -> list[float]:
    from services import viewer_admission
    from storage import live_viewers

    pool, supervisor, times = world["pool"], world["supervisor"], []
    for _ in range(viewers):
        started = time.monotonic()
        lease = await viewer_admission.admit(pool, world["cities"]["B"], world["b_camera"], None)
        pieces: list[Any] = []
        while not any(p.keyframe for p in pieces):
            pieces = await supervisor.live_frames(None, 5.0)
        times.append(time.monotonic() - started)
        await live_viewers.remove(pool, lease)
        await asyncio.sleep(0.05)
    return times


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure_b(world: dict[str, Any], samples: int) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """B's samples, and what the machine and the API process did meanwhile."""
    load_before, cpu_before, started = os.getloadavg()[0], _cpu_s(world["api_pid"]), time.monotonic()
    samples_b = {
        **await _clip_waits(world, samples),
        "alert_s": await _alert_latencies(world, max(MIN_ALERTS, samples * 10)),
        "first_frame_s": await _first_frames(world, samples),
    }
    elapsed = time.monotonic() - started
    return samples_b, {"seconds": round(elapsed, 1), "load_avg_1m": [round(load_before, 2),
                                                                      round(os.getloadavg()[0], 2)],
                       "api_cpu_share": round((_cpu_s(world["api_pid"]) - cpu_before) / elapsed, 3)}


@contextlib.asynccontextmanager
async def _api_process(fields: dict[str, Any]) -> AsyncIterator[tuple[str, httpx.AsyncClient, int]]:
    """The API in a process of its own on a free port: its ws base, an HTTP client of it and its pid."""
    from tests.support.ports import free_port

    port = free_port()
    api = await asyncio.create_subprocess_exec(sys.executable, "-m", "benchmarks.api_process", str(port),
                                               json.dumps(fields))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(300):  # up to 30 s
                with contextlib.suppress(httpx.TransportError):
                    await http.get("/api/v1/events/ticket")  # any answer: it serves
                    break
                assert api.returncode is None, "the API process exited"
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the API did not start")
            yield f"ws://127.0.0.1:{port}/api/v1", http, api.pid
    finally:
        api.terminate()
        await asyncio.wait_for(api.wait(), 30)


@contextlib.asynccontextmanager
async def _world(tmp: Path, export_s: float) -> AsyncIterator[dict[str, Any]]:
    """Own database, Redis prefix, the API process, the RTSP test camera, B's camera supervisor, the exporters."""
    from actors.camera import CameraSupervisor
    from domain.rbac import Role
    from domain.settings import Settings
    from storage import plans, tenants
    from storage.bus import RedisBus
    from storage.db import create_pool, migrate
    from storage.objects import open_object_store
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
    exporters: Exporters | None = None
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
        fields = {"database_url": dsn, "object_store_url": (tmp / "objects").as_uri(),
                  "public_url": "http://127.0.0.1:1", "secret": uuid.uuid4().hex,
                  "bus_url": f"{REDIS_URL}?prefix={prefix}", "spool_dir": str(tmp / "spool"),
                  "event_sockets_per_user": PER_CITY_SOCKETS, "event_sockets_per_city": 500}
        settings = Settings(**fields)  # type: ignore[arg-type]
        supervisor = CameraSupervisor(spec, open_object_store((tmp / "objects").as_uri()), pool,
                                      spool_root=tmp / "spool", bus=None, chunk_max_s=2)
        await supervisor.start()
        headers = {name: access_headers(settings, await new_bearer(pool, Role.MANAGER, city))
                   for name, city in cities.items()}
        exporters = Exporters(pool, 2, export_s)
        try:
            async with _api_process(fields) as (base, http, api_pid):
                yield {"pool": pool, "bus": bus, "base": base, "http": http, "headers": headers, "cities": cities,
                       "b_camera": spec.camera_id, "a_camera": a_camera, "supervisor": supervisor,
                       "exporters": exporters, "api_pid": api_pid, "dsn": dsn, "bus_url": settings.bus_url}
        finally:
            await supervisor.stop()
    finally:
        if exporters is not None:
            await exporters.stop()
        await bus.close()
        await pool.close()
        await asyncio.to_thread(camera.stop)
        await drop_database(dsn)
        await drop_redis_keys(prefix)


@contextlib.asynccontextmanager
async def _flooding(world: dict[str, Any], rate: float) -> AsyncIterator[dict[str, Any]]:
    """A's flood for the duration of the block; yields what A did (filled in when it ends)."""
    from services import viewer_admission
    from storage import clips, live_viewers

    pool, a = world["pool"], world["cities"]["A"]
    queued = (await clips.count_by_state(pool, a))["queued"]
    for _ in range(A_CLIP_JOBS - queued):
        await _queue(pool, a, world["a_camera"])
    world["exporters"].wake()
    leases = [await viewer_admission.admit(pool, a, world["a_camera"], None) for _ in range(PER_CITY_SOCKETS)]
    urls = []
    for _ in range(PER_CITY_SOCKETS):
        ticket = (await world["http"].post("/api/v1/events/ticket", headers=world["headers"]["A"])).json()["ticket"]
        urls.append(f"{world['base']}/events?ticket={ticket}")
    flood = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.city_flood", "--dsn", world["dsn"], "--bus-url", world["bus_url"],
        "--city", str(a), "--camera", str(world["a_camera"]), "--rate", str(rate), "--nice", str(FLOOD_NICE),
        *urls, stdout=asyncio.subprocess.PIPE)
    assert flood.stdout is not None
    did: dict[str, Any] = {"a_clip_jobs_queued_at_start": A_CLIP_JOBS}
    try:
        assert (await asyncio.wait_for(flood.stdout.readline(), 60)).strip() == b"open"
        await asyncio.sleep(1.0)  # the flood running
        yield did
        did["a_clip_jobs_still_queued"] = (await clips.count_by_state(pool, a))["queued"]
    finally:
        flood.send_signal(signal.SIGTERM)
        with contextlib.suppress(TimeoutError, json.JSONDecodeError):
            did.update(json.loads(await asyncio.wait_for(flood.stdout.readline(), 30)))
        await asyncio.wait_for(flood.wait(), 30)
        for lease in leases:
            await live_viewers.remove(pool, lease)


MEASURES = {"clip_wait_s": "p50", "alert_s": "p99", "first_frame_s": "p50"}
CLIP_PARTS = ("clip_insert_s", "clip_to_claim_s", "clip_claim_s")  # where a clip wait goes (p50s, not ratios)


def _stat(values: list[float], stat: str) -> float:
    return round(_p(values, 0.99) if stat == "p99" else statistics.median(values), 4)


def _compare(alone: dict[str, list[float]], flooded: dict[str, list[float]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, stat in MEASURES.items():
        b_alone, b_flooded = _stat(alone[name], stat), _stat(flooded[name], stat)
        result[name] = {"statistic": stat, "alone": b_alone, "while_a_floods": b_flooded,
                        "ratio": round(b_flooded / b_alone, 2) if b_alone else None,
                        "alone_p50": _stat(alone[name], "p50"), "while_a_floods_p50": _stat(flooded[name], "p50"),
                        "alone_max": round(max(alone[name]), 4), "while_a_floods_max": round(max(flooded[name]), 4),
                        "samples": len(flooded[name])}
    result["clip_wait_s"]["parts_p50"] = {part: [_stat(alone[part], "p50"), _stat(flooded[part], "p50")]
                                          for part in CLIP_PARTS}
    return result


@contextlib.asynccontextmanager
async def _profiled(pid: int, out: Path | None) -> AsyncIterator[None]:
    """py-spy recording the API process while the block runs (``out``: its speedscope file; None: no profile)."""
    if out is None:
        yield
        return
    spy = await asyncio.create_subprocess_exec(str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                                               str(pid), "--format", "speedscope", "--output", str(out),
                                               "--rate", "200", "--nonblocking")
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        await asyncio.wait_for(spy.wait(), 60)


async def run(samples: int, export_ms: float, flood_rate: float, rounds: int,
              profile: Path | None = None) -> dict[str, Any]:
    pooled: dict[str, dict[str, list[float]]] = {"alone": {m: [] for m in (*MEASURES, *CLIP_PARTS)},
                                                 "flooded": {m: [] for m in (*MEASURES, *CLIP_PARTS)}}
    per_round = []
    with tempfile.TemporaryDirectory() as tmp:
        async with _world(Path(tmp), export_ms / 1000) as world:
            await asyncio.sleep(3)  # the camera streaming
            for _ in range(rounds):
                alone, alone_seen = await _measure_b(world, samples)
                async with _flooding(world, flood_rate) as flood, _profiled(world["api_pid"], profile):
                    flooded, flooded_seen = await _measure_b(world, samples)
                profile = None  # the first flooded phase only
                for name in pooled["alone"]:
                    pooled["alone"][name] += alone[name]
                    pooled["flooded"][name] += flooded[name]
                compared = _compare(alone, flooded)
                per_round.append({"ratios": {name: m["ratio"] for name, m in compared.items()},
                                  "values": {name: [m["alone"], m["while_a_floods"]] for name, m in compared.items()},
                                  "alone": alone_seen, "while_a_floods": flooded_seen, "flood": flood})
    result = _compare(pooled["alone"], pooled["flooded"])
    ratios = [m["ratio"] for m in result.values() if m["ratio"] is not None]
    return {"samples_per_round": samples, "rounds": rounds, "export_ms": export_ms,
            "flood": {"a_clip_jobs": A_CLIP_JOBS, "a_event_sockets": PER_CITY_SOCKETS,
                      "a_live_viewers": PER_CITY_SOCKETS, "a_alert_rate": flood_rate,
                      "a_plate_image_bytes_per_read": 20_000, "a_quota_bytes": 1_000_000,
                      "a_process_niceness": FLOOD_NICE,
                      "where": "API: own process (uvicorn, create_app); A's flood: own process at nice +10 (other"
                               " machines); B's clients, 2 exporters (woken on queueing), B's camera: this process"},
            **result, "worst_ratio": max(ratios) if ratios else None, "target_ratio": 1.2, "per_round": per_round}


def main() -> None:
    parser = base_parser(__doc__, 0.0)
    parser.add_argument("--samples", type=int, default=20,
                        help=f"clip jobs and first frames of B per phase (alerts: 10×, at least {MIN_ALERTS})")
    parser.add_argument("--rounds", type=int, default=3, help="B alone, then A flooding: this many times")
    parser.add_argument("--export-ms", type=float, default=200.0, help="how long one simulated export takes")
    parser.add_argument("--flood-rate", type=float, default=50.0,
                        help="A's alerts per second (each goes to A's 50 sockets: 50× the messages)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="py-spy the API process in the first flooded phase into this speedscope file")
    args = parser.parse_args()
    publish("fairness", asyncio.run(run(args.samples, args.export_ms, args.flood_rate, args.rounds, args.profile)),
            args.out)


if __name__ == "__main__":
    main()
