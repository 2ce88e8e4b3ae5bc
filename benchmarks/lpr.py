"""LPR speed: sustained ingest with and without images, webhook and alert latency, search on 10 M reads.

Starts the whole system on Ray (Serve API, LPR writer, Redis intake and bus,
the machine's PostgreSQL, a directory object store) and serves the same
FastAPI app on plain uvicorn in this process ("direct"), so ingest numbers come
twice in one run. ``wrk`` (a C load generator, installed by ``scripts/setup
--dev``) posts Intelbras TollgateInfo pushes — each a distinct plate and
vendor event id, 16 cameras, 1 % of them on a watchlist — for ``--window``
seconds, closed loop, 64 connections:

- accepted/s and webhook latency (p50/p99) as wrk sees them;
- events_per_s: reads *stored in lpr_events* per second, from the first
  request to the last row written (the writer must keep up, not just the API);
- alert latency: webhook arrival (``received_at``) → the alert received by a
  WebSocket client on ``/api/v1/events`` (separate process);
- writer ceiling: 100 000 reads put straight into the intake, drained;
- search: 10 M reads (1 M distinct plates over a year, 16 cameras) in
  ``lpr_events``; 100 searches per kind through the API, and the same SQL on a
  direct connection as the peer.

    .venv/bin/python -m benchmarks.lpr --out benchmarks/results/lpr.json
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from benchmarks.report import base_parser, publish
from benchmarks.serving import serve_direct, serve_proxy, summary
from runtime.local_ray import init_local_ray

PASSWORD = "benchmark password"
CAMERAS = 16
SEARCH_ROWS = 10_000_000
SEARCH_PLATES = 1_000_000
WRITER_READS = 100_000
FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "lpr" / "intelbras_tollgate.json"

# wrk: every request a distinct plate and EventID; 1 in 100 a watched plate (ALR….).
WRK_SCRIPT = r"""
local paths = {%(paths)s}
local template = io.open("%(template)s"):read("*a")
local letters = "BCDEFGHIJKLMNOPQRSTUVWXY"
local threads = 0
local n = 0
function setup(thread)
  thread:set("tid", %(phase)d * 16 + threads)  -- distinct reads in every phase of the run
  threads = threads + 1
end
local function letter(i) local j = i %% 24 + 1 return letters:sub(j, j) end
function request()
  n = n + 1
  local k = tid * 100000000 + n
  local q = math.floor(k / 10000)
  local plate = letter(q) .. letter(math.floor(q / 24)) .. letter(math.floor(q / 576)) .. string.format("%%04d", k %% 10000)
  if n %% 100 == 0 then plate = "ALR" .. string.format("%%04d", k %% 10000) end
  local at = string.format("2026-11-%%02d %%02d:%%02d:%%02d.%%03d", 1 + tid %% 28, math.floor(n / 3600000) %% 24,
    math.floor(n / 60000) %% 60, math.floor(n / 1000) %% 60, n %% 1000)
  local body = template:gsub("@PLATE@", plate):gsub("@TIME@", at):gsub("@EVENT@", tostring(k))
  return wrk.format("POST", paths[n %% #paths + 1], {["Content-Type"] = "application/json"}, body)
end
function done(summary, latency, requests)
  local codes = summary.errors.status
  io.write(string.format('WRK {"requests": %%d, "duration_us": %%d, "non_2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_ms": %%.2f, "p90_ms": %%.2f, "p99_ms": %%.2f, "max_ms": %%.2f}\n',
    summary.requests, summary.duration, codes, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def jpeg_of_about(size: int) -> bytes:
    """A real JPEG near ``size`` bytes (noise compresses badly, like a daytime scene)."""
    import av
    import numpy as np

    rng = np.random.default_rng(7)
    side = 64
    while True:
        codec = av.CodecContext.create("mjpeg", "w")
        codec.width = codec.height = side
        codec.pix_fmt = "yuvj420p"
        codec.time_base = av.time_base  # type: ignore[attr-defined]
        frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8), format="rgb24")
        data = b"".join(bytes(p) for p in codec.encode(frame.reformat(format="yuvj420p")) + codec.encode(None))
        if len(data) >= size:
            return data
        side += 16


def body_template(image: bytes | None) -> str:
    doc = json.loads(FIXTURE.read_text())
    doc["EventID"] = "@EVENT@"
    doc["Picture"]["Plate"]["PlateNumber"] = "@PLATE@"
    doc["Picture"]["SnapInfo"]["AccurateTime"] = "@TIME@"
    doc["Picture"]["SnapInfo"]["EventID"] = "@EVENT@"
    if image is None:
        del doc["Picture"]["NormalPic"]
    else:
        doc["Picture"]["NormalPic"]["Content"] = base64.b64encode(image).decode()
    return json.dumps(doc)


# --- clients ---------------------------------------------------------------------------


def run_wrk(base: str, paths: list[str], template: str, seconds: float, work: Path, phase: int) -> dict[str, Any]:
    (work / "body.json").write_text(template)
    script = work / "lpr.lua"
    script.write_text(WRK_SCRIPT % {"paths": ", ".join(f'"{p}"' for p in paths), "template": work / "body.json",
                                    "phase": phase})
    done = subprocess.run(["wrk", "-t2", "-c64", f"-d{int(seconds)}s", "--timeout", "10s", "-s", str(script), base],
                          capture_output=True, text=True, timeout=seconds + 120, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout[-1000:]} {done.stderr[-1000:]}")
    result: dict[str, Any] = json.loads(line[4:])
    result["accepted_per_s"] = round((result["requests"] - result["non_2xx"]) / (result["duration_us"] / 1e6), 1)
    return result


async def alert_client(url: str, seconds: float) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    latencies: list[float] = []
    started = time.monotonic()
    async with connect(url, open_timeout=30) as ws:
        ready = json.loads(await asyncio.wait_for(ws.recv(), 30))  # the server subscribed: nothing is missed now
        assert ready.get("type") == "ready", ready
        print("READY", flush=True)
        while time.monotonic() - started < seconds:
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            except TimeoutError:
                continue
            event = message["event"]
            if event.get("type") == "lpr.alert":
                received = datetime.fromisoformat(event["received_at"]).timestamp()
                latencies.append((time.time() - received) * 1000)
    return summary(latencies)


def start_alert_client(url: str, seconds: float) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-m", "benchmarks.lpr", "--client", "alerts",
                              json.dumps({"url": url, "seconds": seconds})], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    if child.stdout.readline().strip() != "READY":
        raise RuntimeError("alert client did not connect")
    return child


# --- the system under test ---------------------------------------------------------------


async def count_rows(database_url: str, tenant: UUID) -> int:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM lpr_events WHERE tenant_id = $1", tenant)
        return count
    finally:
        await conn.close()


def wait_stored(database_url: str, tenant: UUID, target: int, timeout_s: float) -> tuple[int, float]:
    """Rows stored once ``target`` is reached (or at the timeout), and when the last of them was counted."""
    deadline = time.monotonic() + timeout_s
    now = asyncio.run(count_rows(database_url, tenant))
    while now < target and time.monotonic() < deadline:
        time.sleep(0.1)
        now = asyncio.run(count_rows(database_url, tenant))
    return now, time.monotonic()


def ingest_phase(database_url: str, tenant: UUID, base: str, paths: list[str], template: str, seconds: float,
                 work: Path, alerts_url: Callable[[], str], phase: int) -> dict[str, Any]:
    import ray

    from actor_client.names import LPR_WRITER_NAME

    before = asyncio.run(count_rows(database_url, tenant))
    alerts = start_alert_client(alerts_url(), seconds + 15)  # a new single-use ticket for each phase
    writer = ray.get_actor(LPR_WRITER_NAME)
    backlog: list[int] = []
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(1.0):
            backlog.append(ray.get(writer.status.remote(), timeout=30)["backlog"])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    load = run_wrk(base, paths, template, seconds, work, phase)
    accepted = load["requests"] - load["non_2xx"]
    stored, last_write = wait_stored(database_url, tenant, before + accepted, 300)
    out, _ = alerts.communicate(timeout=60)
    sampling.set()
    sampler.join(timeout=35)
    written = stored - before
    return {"wrk": load, "accepted": accepted, "stored": written, "intake_backlog_max": max(backlog, default=0),
            "writer": ray.get(writer.status.remote(), timeout=30),
            "events_per_s": round(written / max(1e-9, last_write - started), 1),
            "writer_lag_after_load_s": round(max(0.0, last_write - started - seconds), 1),
            "alert_latency_ms": json.loads(out.strip().splitlines()[-1])}


async def writer_ceiling(settings: Any, tenant: UUID, camera: UUID) -> dict[str, Any]:
    """The writer's own path (COPY batches of BATCH_MAX, dedupe, watchlist matching) without HTTP in front."""
    from actors.lpr_writer import BATCH_MAX
    from domain.lpr.queued_read import QueuedRead
    from domain.lpr.reads import PlateRead
    from services.lpr_write import write_batch
    from storage.bus import open_bus
    from storage.db import create_pool
    from storage.objects import open_object_store_for
    from storage.watchlist_cache import WatchlistCache

    pool = await create_pool(settings.database_url, max_size=2)
    bus = open_bus(settings.bus_url, namespace=settings.namespace)
    store = open_object_store_for(settings)
    at = datetime(2026, 10, 1, tzinfo=UTC)
    reads = [QueuedRead.of(PlateRead(plate=f"WRT{n % 10000:04d}", captured_at=at + timedelta(milliseconds=n)),
                           tenant_id=tenant, camera_id=camera, sender="bench", received_at=datetime.now(UTC))
             for n in range(WRITER_READS)]
    watchlists = WatchlistCache(pool)
    started = time.monotonic()
    for first in range(0, WRITER_READS, BATCH_MAX):
        await write_batch(reads[first:first + BATCH_MAX], pool, store, bus, watchlists)
    elapsed = time.monotonic() - started
    await bus.close()
    await pool.close()
    return {"reads": WRITER_READS, "batch": BATCH_MAX, "seconds": round(elapsed, 2),
            "reads_per_s": round(WRITER_READS / elapsed, 1)}


async def fill_search_index(database_url: str, tenant: UUID, cameras: list[UUID]) -> float:
    """10 M reads over the last year: 1 M distinct plates, 16 cameras, written by SQL in 1 M-row steps."""
    from storage.db import create_pool
    from storage.lpr_events import ensure_partition

    pool = await create_pool(database_url, max_size=2)
    started = time.monotonic()
    try:
        year_ago = datetime.now(UTC) - timedelta(days=365)
        for month in range(14):
            await ensure_partition(pool, year_ago + timedelta(days=31 * month))
        step = 1_000_000
        for first in range(0, SEARCH_ROWS, step):
            await pool.execute(
                """INSERT INTO lpr_events (id, tenant_id, camera_id, plate, captured_at, confidence, sender,
                                           dedupe_key)
                   SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + i % 16],
                          chr((66 + p % 24)::int) || chr((66 + p / 24 % 24)::int) || chr((66 + p / 576 % 24)::int)
                            || lpad((p / 13824 % 10000)::text, 4, '0'),
                          $3::timestamptz + make_interval(secs => i * 3.1536), 90, 'bench', 'bench:' || i
                   FROM generate_series($4::bigint, $5::bigint) AS i,
                        LATERAL (SELECT (i * 2654435761) % $6 AS p) AS plate""",
                tenant, cameras, year_ago, first, min(first + step, SEARCH_ROWS) - 1, SEARCH_PLATES, timeout=3600)
        await pool.execute("ANALYZE lpr_events", timeout=3600)
    finally:
        await pool.close()
    return time.monotonic() - started


def search_queries(rng: random.Random, cameras: list[UUID]) -> dict[str, list[dict[str, str]]]:
    def plate() -> str:
        p = (rng.randrange(SEARCH_ROWS) * 2654435761) % SEARCH_PLATES
        return chr(66 + p % 24) + chr(66 + p // 24 % 24) + chr(66 + p // 576 % 24) + f"{p // 13824 % 10000:04d}"

    def day() -> dict[str, str]:
        start = datetime.now(UTC) - timedelta(days=rng.randrange(2, 360))
        return {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}

    return {
        "exact": [{"plate": plate()} for _ in range(100)],
        "wildcard": [{"plate": (p := plate())[:4] + "?" + p[5:]} for _ in range(100)],
        "prefix": [{"plate": plate()[:4] + "*"} for _ in range(100)],
        "camera_day": [{"camera": str(rng.choice(cameras)), **day()} for _ in range(100)],
        "newest": [{} for _ in range(100)],
    }


def time_searches(base: str, bearer: str, tenant: UUID, queries: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with httpx.Client(base_url=base + "/api/v1", headers={"authorization": f"Bearer {bearer}"}, timeout=60) as api:
        for kind, params in queries.items():
            took: list[float] = []
            for p in params:
                t0 = time.perf_counter()
                response = api.get("/lpr/events", params={**p, "tenant_id": str(tenant), "limit": 100})
                took.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, response.text
            results[kind] = summary(took)
    return results


async def time_sql(database_url: str, tenant: UUID, queries: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    """The peer: the same queries straight on PostgreSQL (no HTTP, no auth, no audit)."""
    from domain.lpr.plates import search_pattern
    from storage import lpr_events
    from storage.db import create_pool

    pool = await create_pool(database_url, max_size=1)
    results: dict[str, Any] = {}
    try:
        for kind, params in queries.items():
            took: list[float] = []
            for p in params:
                term, is_pattern = search_pattern(p["plate"]) if "plate" in p else (None, False)
                t0 = time.perf_counter()
                await lpr_events.search(pool, tenant, plate=term, is_pattern=is_pattern,
                                        camera_id=UUID(p["camera"]) if "camera" in p else None,
                                        start=datetime.fromisoformat(p["start"]) if "start" in p else None,
                                        end=datetime.fromisoformat(p["end"]) if "end" in p else None,
                                        after=None, limit=100)
                took.append((time.perf_counter() - t0) * 1000)
            results[kind] = summary(took)
    finally:
        await pool.close()
    return results


def main() -> None:
    parser = base_parser(__doc__, warmup_s=5)
    parser.set_defaults(window=60.0)
    parser.add_argument("--image-bytes", type=int, default=50_000)
    parser.add_argument("--skip-search", action="store_true", help="leave out the 10 M-row search part")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("client_args", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(alert_client(**json.loads(args.client_args)))))
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    run(args)


def run(args: argparse.Namespace) -> None:
    import ray

    from domain.settings import Settings
    from serve.app import create_app
    from tests.support.databases import create_database, drop_database
    from tests.support.ports import free_port
    from tests.support.system import REDIS_URL, drop_redis_keys, start_system

    work = Path(tempfile.mkdtemp(prefix="gtv-lpr-"))
    database_url = asyncio.run(create_database())
    prefix = f"gtv-bench-{uuid4().hex[:8]}:"
    serve_port, direct_port = free_port(), free_port()
    settings = Settings(database_url=database_url, object_store_url=(work / "objects").as_uri(),
                        public_url=f"http://127.0.0.1:{serve_port}", secret=uuid4().hex, api_port=serve_port,
                        bus_url=f"{REDIS_URL}?prefix={prefix}", spool_dir=str(work / "spool"),
                        clip_work_dir=str(work / "clips"),
                        camera_networks=("127.0.0.0/8",))  # its cameras are on loopback
    init_local_ray(include_dashboard=False, log_to_driver=False, namespace=settings.namespace)
    runtime, api = start_system(settings, PASSWORD)
    image = jpeg_of_about(args.image_bytes)
    try:
        token = api.post("/auth/login", json={"username": "admin", "password": PASSWORD}).json()["access_token"]
        auth = {"authorization": f"Bearer {token}"}
        tenant = UUID(api.post("/tenants", json={"name": "Bench City"}, headers=auth).json()["id"])
        cameras, paths = [], []
        for i in range(CAMERAS):
            camera = api.post("/cameras", headers=auth, json={
                "name": f"lpr {i}", "tenant_id": str(tenant), "rtsp_url": f"rtsp://127.0.0.1:1/{i}",
                "enabled": False}).json()["id"]
            cameras.append(UUID(camera))
            paths.append(api.post(f"/cameras/{camera}/lpr-credentials", headers=auth).json()["intelbras"])
        assert api.post("/lpr/watchlist", headers=auth, json={
            "plate": "ALR*", "reason": "benchmark", "tenant_id": str(tenant)}).status_code == 201
        direct = serve_direct(create_app(replace(settings, public_url=f"http://127.0.0.1:{direct_port}")),
                              direct_port)
        time.sleep(args.warmup)

        def alerts_url() -> str:
            ticket = api.post("/events/ticket", headers=auth).json()["ticket"]
            return f"ws://127.0.0.1:{serve_port}/api/v1/events?ticket={ticket}&tenant_id={tenant}"

        ingest: dict[str, Any] = {}
        for label, template in (("no_images", body_template(None)), ("images", body_template(image))):
            for route, port in (("serve", serve_port), ("direct", direct_port)):
                ingest[f"{route}_{label}"] = ingest_phase(database_url, tenant, f"http://127.0.0.1:{port}", paths,
                                                          template, args.window, work, alerts_url, len(ingest))
        direct.should_exit = True
        ceiling = asyncio.run(writer_ceiling(settings, tenant, cameras[0]))

        search: dict[str, Any] = {}
        if not args.skip_search:
            fill_s = asyncio.run(fill_search_index(database_url, tenant, cameras))
            queries = search_queries(random.Random(11), cameras)
            search = {"rows": asyncio.run(count_rows(database_url, tenant)), "fill_s": round(fill_s, 1),
                      "api": time_searches(f"http://127.0.0.1:{serve_port}", token, tenant, queries),
                      "sql": asyncio.run(time_sql(database_url, tenant, queries))}
    finally:
        runtime.stop()
        ray.shutdown()
        asyncio.run(drop_database(database_url))
        asyncio.run(drop_redis_keys(prefix))
        subprocess.run(["rm", "-rf", str(work)], check=False)

    worst_search = max((v["p95"] for v in search.get("api", {}).values()), default=None)
    report = publish("lpr", {
        "events_per_s": ingest["serve_no_images"]["events_per_s"],
        "events_per_s_with_images": ingest["serve_images"]["events_per_s"],
        "webhook_p99_ms": ingest["serve_no_images"]["wrk"]["p99_ms"],
        "alert_p50_ms": ingest["serve_no_images"]["alert_latency_ms"]["p50"],
        "alert_p99_ms": max(ingest[k]["alert_latency_ms"]["p99"] for k in ("serve_no_images", "serve_images")),
        "search_p95_ms": worst_search,
        "serve_vs_direct_events_ratio": round(ingest["serve_no_images"]["events_per_s"] / max(
            1e-9, ingest["direct_no_images"]["events_per_s"]), 2),
        "writer_ceiling": ceiling,
        "goals": {"events_per_s": 2000, "alert_p99_ms": 500, "search_p95_ms": 100},
        "setup": {"load": "wrk -t2 -c64 closed loop, Intelbras TollgateInfo JSON", "cameras": CAMERAS,
                  "image_bytes": len(image), "window_s": args.window, "intake": "Redis stream (consumer group)",
                  "object_store": "directory (local disk, fsync per object)",
                  "serve_proxy": serve_proxy()},
        "ingest": ingest,
        "search": search,
    }, args.out)
    if args.out:
        plot(report, args.out.with_suffix(".png"))


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    phases = list(report["ingest"])
    left.bar(phases, [report["ingest"][p]["events_per_s"] for p in phases], color="tab:blue")
    left.axhline(report["goals"]["events_per_s"], color="tab:red", linestyle="--", label="goal")
    left.set_ylabel("reads stored per second")
    left.set_title("LPR ingest (Serve vs direct uvicorn)")
    left.tick_params(axis="x", rotation=20)
    left.legend()
    kinds = list(report["search"].get("api", {}))
    if kinds:
        right.bar(kinds, [report["search"]["api"][k]["p95"] for k in kinds], label="API p95", color="tab:green")
        right.bar(kinds, [report["search"]["sql"][k]["p95"] for k in kinds], label="SQL p95", color="tab:gray")
        right.axhline(report["goals"]["search_p95_ms"], color="tab:red", linestyle="--", label="goal")
        right.set_ylabel("ms")
        right.set_title(f"search on {report['search']['rows']:,} reads")
        right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
