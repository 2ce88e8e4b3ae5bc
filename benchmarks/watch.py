"""Watching speed: live latency and first frame over WebSocket, seek time in a 7-day index.

Starts the whole system on Ray (Serve API, Fleet, a camera host per camera)
with the machine's PostgreSQL and a directory object store, one live RTSP
camera (GStreamer, 640×360, 25 fps, 1 s GOP) and 16 cameras with a synthetic
7-day index (161 280 chunk rows; the objects the seeks read are real chunks).
The same FastAPI app is also served by plain uvicorn in this process
("direct"), so every number comes twice in one run: Serve-routed and direct.

- live latency: packet received by the camera actor → fragment bytes received
  by a WebSocket client, p50/p95 over every fragment (a message may carry
  several: each counts), 1, 10 and 50 viewers, 60 s each;
- first frame: WebSocket connected → first fragment received;
- sustained (``--sustained``, its own run): 100 viewers for 120 s, p95 over
  the run and its growth (p95 of the last 30 s ÷ the first 30 s), Serve's
  default ingress and plain uvicorn in the same run
  (benchmarks/results/live_sustained.json);
- seek: playback playlist request → its first fragment's bytes received
  (playlist, init range, fragment range, in order, as a player does),
  200 random instants over 7 days × 16 cameras.

Clients run in a separate process so they do not compete with the servers'
event loops. Prints JSON, writes --out and a PNG beside it.

    .venv/bin/python -m benchmarks.watch --out benchmarks/results/watch.json
    .venv/bin/python -m benchmarks.watch --sustained --out benchmarks/results/live_sustained.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from benchmarks.report import base_parser, merge_into, publish
from benchmarks.serving import serve_direct, serve_proxy, summary
from runtime.local_ray import init_local_ray

SYNTHETIC_DAYS = 7
SYNTHETIC_CAMERAS = 16
CHUNK_S = 60
PASSWORD = "benchmark password"


# --- clients (run in a child process) ----------------------------------------------


async def _viewer(url: str, seconds: float, t0: float) -> tuple[list[tuple[float, float]], float | None, int]:
    """One viewer: (seconds since ``t0``, latency ms) of every fragment, its first fragment's delay, its messages."""
    from websockets.asyncio.client import connect

    latencies: list[tuple[float, float]] = []
    first: float | None = None
    messages = 0
    started = time.monotonic()
    async with connect(url, open_timeout=30, max_size=None) as ws:
        connected = time.monotonic()
        meta: dict[str, Any] = {}
        while time.monotonic() - started < seconds:
            message = await asyncio.wait_for(ws.recv(), 10)
            if isinstance(message, str):
                meta = json.loads(message)
                continue
            now = time.time()
            if meta.get("init"):
                continue
            messages += 1
            if first is None:
                first = (time.monotonic() - connected) * 1000
            at = time.monotonic() - t0
            latencies += [(at, (now - piece["received_at"]) * 1000) for piece in meta["pieces"]]
    return latencies, first, messages


async def live_clients(url: str, viewers: int, seconds: float, part_s: float = 0.0) -> dict[str, Any]:
    """``viewers`` at once for ``seconds``; with ``part_s``, also the p95 of the first and the last ``part_s``."""
    t0 = time.monotonic()
    results = await asyncio.gather(*(_viewer(url, seconds, t0) for _ in range(viewers)), return_exceptions=True)
    done = [r for r in results if not isinstance(r, BaseException)]
    samples = [sample for r in done for sample in r[0]]
    latencies = [lat for _, lat in samples]
    firsts = [r[1] for r in done if r[1] is not None]
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    messages = sum(r[2] for r in done)
    out = {"viewers": viewers, "latency_ms": summary(latencies), "first_frame_ms": summary(firsts),
           "messages": messages, "fragments_per_message": round(len(latencies) / max(1, messages), 2),
           "errors": errors[:3], "failed_viewers": len(errors)}
    if part_s:
        end = max((at for at, _ in samples), default=0.0)
        first_part = summary([lat for at, lat in samples if at < part_s])
        last_part = summary([lat for at, lat in samples if at >= end - part_s])
        out.update({"first_part_latency_ms": first_part, "last_part_latency_ms": last_part,
                    "p95_growth": round(last_part["p95"] / max(1e-9, first_part["p95"]), 2),
                    "per_10s_p95_ms": [summary([lat for at, lat in samples if k <= at < k + 10])["p95"]
                                       for k in range(0, int(end), 10)]})
    return out


def seek_clients(base: str, tokens: dict[str, str], since: str, count: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    start = datetime.fromisoformat(since)
    span_s = SYNTHETIC_DAYS * 86400 - 3600
    times: list[float] = []
    playlist_ms: list[float] = []
    failures = 0
    with httpx.Client(timeout=30) as client:
        for _ in range(count):
            camera = rng.choice(list(tokens))
            at = start + timedelta(seconds=rng.uniform(0, span_s))
            t0 = time.perf_counter()
            response = client.get(f"{base}/api/v1/cameras/{camera}/playback.m3u8", params={
                "start": at.isoformat(), "end": (at + timedelta(minutes=10)).isoformat(), "token": tokens[camera]})
            if response.status_code != 200:
                failures += 1
                continue
            playlist_ms.append((time.perf_counter() - t0) * 1000)
            lines = response.text.splitlines()
            init_line = next(line for line in lines if line.startswith("#EXT-X-MAP"))
            init_url = init_line.split('URI="', 1)[1].split('"', 1)[0]
            init_range = init_line.split('BYTERANGE="', 1)[1].split('"', 1)[0]
            i = next(i for i, line in enumerate(lines) if line.startswith("#EXT-X-BYTERANGE"))
            fragment_range, fragment_url = lines[i].split(":", 1)[1], lines[i + 1]
            for url, byterange in ((init_url, init_range), (fragment_url, fragment_range)):
                length, _, offset = byterange.partition("@")
                got = client.get(url, headers={"range": f"bytes={offset}-{int(offset) + int(length) - 1}"})
                if got.status_code != 206 or len(got.content) != int(length):
                    failures += 1
                    break
            else:
                times.append((time.perf_counter() - t0) * 1000)
    return {"seeks": count, "seek_ms": summary(times), "playlist_ms": summary(playlist_ms), "failures": failures}


def timeline_clients(base: str, bearer: str, cameras: list[str], since: str, repeats: int) -> dict[str, Any]:
    """Timeline requests: the whole 7 days of one camera, and one day of all 16 cameras at once."""
    start = datetime.fromisoformat(since)
    headers = {"authorization": f"Bearer {bearer}"}
    one: list[float] = []
    many: list[float] = []
    with httpx.Client(timeout=30, headers=headers) as client:
        for i in range(repeats):
            t0 = time.perf_counter()
            response = client.get(f"{base}/api/v1/cameras/{cameras[i % len(cameras)]}/timeline", params={
                "start": start.isoformat(), "end": (start + timedelta(days=SYNTHETIC_DAYS)).isoformat()})
            assert response.status_code == 200 and response.json()["runs"], response.text
            one.append((time.perf_counter() - t0) * 1000)
            day = start + timedelta(days=i % SYNTHETIC_DAYS)
            t0 = time.perf_counter()
            response = client.get(f"{base}/api/v1/timeline", params={
                "cameras": ",".join(cameras), "start": day.isoformat(), "end": (day + timedelta(days=1)).isoformat()})
            assert response.status_code == 200 and len(response.json()["cameras"]) == len(cameras), response.text
            many.append((time.perf_counter() - t0) * 1000)
    return {"one_camera_7_days_ms": summary(one), "16_cameras_1_day_ms": summary(many)}


def run_client(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run a client in a child process and return what it printed."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.watch", "--client", kind, json.dumps(args)],
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} client failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# --- the system under test ----------------------------------------------------------


def make_chunk(work: Path) -> tuple[bytes, Any]:
    """One real 60 s chunk (640×360, 25 fps, 2 s GOP), recorded through the real recorder."""
    import io
    import threading as th

    import av

    from media.chunk_file import describe_chunk
    from media.ingest_stats import IngestStats
    from media.lean_demux import raw_packet
    from media.recorder import record_run
    from media.sources import _encode_pattern
    from storage.spool import FsyncPolicy, SpoolWriter, pending, start_ms_of

    clip = _encode_pattern(640, 360, 25, 60)

    class Once:
        audio: Any = None

        def __init__(self) -> None:
            self._container = av.open(io.BytesIO(clip), mode="r")
            self.video = self._container.streams.video[0]

        def packets(self, stop: th.Event) -> Any:
            yield from (raw_packet(p) for p in self._container.demux(self.video) if p.dts is not None)

        def close(self) -> None:
            self._container.close()

    spool = work / "spool"
    record_run(Once(), max_chunk_ms=CHUNK_S * 1000 + 1000, on_chunk=lambda _: None, stop=th.Event(),
               sink=SpoolWriter(spool, fsync=FsyncPolicy.NONE), stats=IngestStats())
    (path,) = pending(spool)
    data = path.read_bytes()
    return data, describe_chunk(data, tenant_id=uuid4(), camera_id=uuid4(), start_ms=start_ms_of(path))


async def build_index(database_url: str, objects: Path, tenant_id: UUID, cameras: list[UUID],
                      since: datetime, chunk: bytes, meta: Any) -> int:
    """Index rows for 7 days of 16 cameras; every row's object is a hard link to a real chunk (one per camera:
    file systems cap links per file)."""
    from asyncpg import Range

    from domain.recording import chunk_object_key
    from storage.db import create_pool

    fragments = [f.as_row() for f in meta.fragments]
    pool = await create_pool(database_url, max_size=2)
    rows = 0
    try:
        for camera in cameras:
            source = objects / f"bench-chunk-{camera}.mp4"
            source.write_bytes(chunk)
            records = []
            for k in range(SYNTHETIC_DAYS * 86400 // CHUNK_S):
                start = since + timedelta(seconds=k * CHUNK_S)
                key = chunk_object_key(tenant_id, camera, start)
                path = objects / key
                path.parent.mkdir(parents=True, exist_ok=True)
                os.link(source, path)
                records.append((tenant_id, camera, Range(start, start + timedelta(seconds=CHUNK_S)), key, len(chunk),
                                meta.init_length, meta.codec, meta.width, meta.height, fragments, k * CHUNK_S * 1000))
            async with pool.acquire() as conn:
                await conn.copy_records_to_table("recordings", records=records, columns=[
                    "tenant_id", "camera_id", "time_range", "object_key", "bytes", "init_length", "codec", "width",
                    "height", "fragments", "media_start_ms"])
            rows += len(records)
        await pool.execute("ANALYZE recordings")
    finally:
        await pool.close()
    return rows


def main() -> None:
    parser = base_parser(__doc__, warmup_s=10)
    parser.set_defaults(window=60.0)
    parser.add_argument("--viewers", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--sustained", action="store_true",
                        help="only the sustained live part: --sustained-viewers for --sustained-s, Serve vs uvicorn")
    parser.add_argument("--sustained-viewers", type=int, default=100)
    parser.add_argument("--sustained-s", type=float, default=120.0)
    parser.add_argument("--seeks", type=int, default=200)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("client_args", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        params = json.loads(args.client_args)
        clients = {"live": lambda: asyncio.run(live_clients(**params)), "seek": lambda: seek_clients(**params),
                   "timeline": lambda: timeline_clients(**params)}
        result = clients[args.client]()
        print(json.dumps(result))
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    run(args)


def run(args: argparse.Namespace) -> None:
    import ray

    from domain.settings import Settings
    from serve.app import create_app
    from tests.support.databases import create_database, drop_database
    from tests.support.ports import free_port
    from tests.support.rtsp_camera import RtspTestCamera
    from tests.support.system import start_system

    work = Path(tempfile.mkdtemp(prefix="gtv-watch-"))
    objects = work / "objects"
    objects.mkdir()
    database_url = asyncio.run(create_database())
    camera_server = RtspTestCamera(free_port(), ["live"], fps=25, gop=25)
    camera_server.start()
    serve_port, direct_port = free_port(), free_port()
    settings = Settings(database_url=database_url, object_store_url=objects.as_uri(),
                        public_url=f"http://127.0.0.1:{serve_port}", secret=uuid4().hex, api_port=serve_port,
                        spool_dir=str(work / "spool"), clip_work_dir=str(work / "clips"),
                        camera_networks=("127.0.0.0/8",))  # its cameras are on loopback
    init_local_ray(include_dashboard=False, log_to_driver=False, namespace=settings.namespace)
    runtime, api = start_system(settings, PASSWORD)
    try:
        token = api.post("/auth/login", json={"username": "admin", "password": PASSWORD}).json()["access_token"]
        auth = {"authorization": f"Bearer {token}"}
        tenant = api.post("/tenants", json={"name": "Bench City"}, headers=auth).json()["id"]
        plan = api.post("/plans", headers=auth, json={  # the default plan admits 16 live streams; this admits the crowd
            "name": "Bench plan", "retention_days": 30, "camera_quota": 100, "live_viewers_max": 1000}).json()["id"]
        assert api.put(f"/tenants/{tenant}/plan", headers=auth, json={"plan_id": plan}).status_code == 200
        live = api.post("/cameras", headers=auth, json={"name": "live", "tenant_id": tenant,
                                                        "rtsp_url": camera_server.url("live")}).json()["id"]
        synthetic = [UUID(api.post("/cameras", headers=auth, json={
            "name": f"archive {i}", "tenant_id": tenant, "rtsp_url": f"rtsp://127.0.0.1:1/{i}", "enabled": False,
        }).json()["id"]) for i in range(SYNTHETIC_CAMERAS)]
        since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=SYNTHETIC_DAYS + 1)
        rows, index_s = 0, 0.0
        if not args.sustained:  # the sustained live part needs no archive
            chunk, meta = make_chunk(work)
            t0 = time.monotonic()
            rows = asyncio.run(build_index(database_url, objects, UUID(tenant), synthetic, since, chunk, meta))
            index_s = time.monotonic() - t0

        direct_app = create_app(replace(settings, public_url=f"http://127.0.0.1:{direct_port}"))
        direct = serve_direct(direct_app, direct_port, ws="websockets-sansio")
        time.sleep(args.warmup)
        media_tokens = {str(c): api.post(f"/cameras/{c}/media-token", headers=auth).json()["token"] for c in synthetic}
        live_token = api.post(f"/cameras/{live}/media-token", headers=auth).json()["token"]
        status = api.get(f"/cameras/{live}/status", headers=auth).json()
        if args.sustained:
            sustained = {route: run_client("live", {
                "url": f"ws://127.0.0.1:{port}/api/v1/cameras/{live}/live?token={live_token}&meta=1",
                "viewers": args.sustained_viewers, "seconds": args.sustained_s, "part_s": 30.0})
                for route, port in (("serve", serve_port), ("direct", direct_port))}
            direct.should_exit = True
            publish_sustained(args, settings, status, sustained)
            return

        results: dict[str, Any] = {}
        for route, port in (("serve", serve_port), ("direct", direct_port)):
            url = f"ws://127.0.0.1:{port}/api/v1/cameras/{live}/live?token={live_token}&meta=1"
            results[route] = {
                "live": [run_client("live", {"url": url, "viewers": n, "seconds": args.window}) for n in args.viewers],
                "seek": run_client("seek", {"base": f"http://127.0.0.1:{port}", "tokens": media_tokens,
                                            "since": since.isoformat(), "count": args.seeks, "seed": 7}),
                "timeline": run_client("timeline", {"base": f"http://127.0.0.1:{port}", "bearer": token,
                                                    "cameras": [str(c) for c in synthetic],
                                                    "since": since.isoformat(), "repeats": 20}),
            }
        direct.should_exit = True
    finally:
        runtime.stop()
        ray.shutdown()
        camera_server.stop()
        asyncio.run(drop_database(database_url))
        subprocess.run(["rm", "-rf", str(work)], check=False)

    serve_live = results["serve"]["live"]
    worst = max(serve_live, key=lambda r: r["latency_ms"]["p95"])
    report = publish("watch", {
        "live_p95_ms": worst["latency_ms"]["p95"],
        "live_p95_ms_by_viewers": {str(r["viewers"]): r["latency_ms"]["p95"] for r in serve_live},
        "first_frame_ms": max(r["first_frame_ms"]["p95"] for r in serve_live),
        "seek_p95_ms": results["serve"]["seek"]["seek_ms"]["p95"],
        "timeline_p95_ms": {k: v["p95"] for k, v in results["serve"]["timeline"].items()},
        "serve_vs_direct_live_p95_ratio": round(worst["latency_ms"]["p95"] / max(
            1e-9, max(r["latency_ms"]["p95"] for r in results["direct"]["live"])), 2),
        "serve_vs_direct_seek_p95_ratio": round(results["serve"]["seek"]["seek_ms"]["p95"] / max(
            1e-9, results["direct"]["seek"]["seek_ms"]["p95"]), 2),
        "goals": {"live_p95_ms": 1000, "first_frame_ms": 300, "seek_p95_ms": 150},
        "camera": {"source": "GStreamer RTSP, H.264 640x360 25 fps, 1 s GOP", "fps": status.get("fps")},
        "index": {"rows": rows, "cameras": SYNTHETIC_CAMERAS, "days": SYNTHETIC_DAYS, "build_s": round(index_s, 1)},
        "window_s": args.window,
        "serve_proxy": serve_proxy(),
        "results": results,
    }, args.out)
    if args.out:
        plot(report, args.out.with_suffix(".png"))


def publish_sustained(args: argparse.Namespace, settings: Any, status: dict[str, Any],
                      sustained: dict[str, dict[str, Any]]) -> None:
    serve, direct = sustained["serve"], sustained["direct"]
    report = publish("live_sustained", {
        "live_p95_ms_sustained": serve["latency_ms"]["p95"],
        "live_p95_growth": serve["p95_growth"],
        "goals": {"live_p95_ms_sustained": 500, "live_p95_growth": 1.5},
        "peer_uvicorn_live_p95_ms_sustained": direct["latency_ms"]["p95"],
        "peer_uvicorn_live_p95_growth": direct["p95_growth"],
        "serve_vs_uvicorn_p95_ratio": round(serve["latency_ms"]["p95"] / max(1e-9, direct["latency_ms"]["p95"]), 2),
        "viewers": args.sustained_viewers, "seconds": args.sustained_s, "growth_parts_s": 30,
        "pacing": {"live_send_interval_ms": settings.live_send_interval_ms,
                   "live_messages_per_s": settings.live_messages_per_s},
        "camera": {"source": "GStreamer RTSP, H.264 640x360 25 fps, 1 s GOP", "fps": status.get("fps")},
        "serve_proxy": serve_proxy(),
        "results": sustained,
    }, args.out)
    if args.out:  # issue 14's figures live in cluster.json, beside the node-loss and API runs
        merge_into(args.out.parent / "cluster.json", live_figures(report))


def live_figures(report: dict[str, Any]) -> dict[str, Any]:
    """What cluster.json keeps of a sustained live run."""
    return {"live_p95_ms_sustained": report["live_p95_ms_sustained"], "live_p95_growth": report["live_p95_growth"],
            "live": {k: report[k] for k in ("when", "viewers", "seconds", "peer_uvicorn_live_p95_ms_sustained",
                                            "serve_vs_uvicorn_p95_ratio", "pacing", "serve_proxy")}
            | {"details": "live_sustained.json"}}


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (live_ax, seek_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for route, style in (("serve", "-o"), ("direct", "--s")):
        rows = report["results"][route]["live"]
        viewers = [r["viewers"] for r in rows]
        for q in ("p50", "p95"):
            live_ax.plot(viewers, [r["latency_ms"][q] for r in rows], style, label=f"{route} {q}")
    live_ax.axhline(1000, color="red", linewidth=0.8, label="goal p95 1 s")
    live_ax.set(xscale="log", xlabel="viewers of one camera", ylabel="ms", title="live latency (camera actor → client)")
    live_ax.legend(fontsize=8)
    names = ["serve", "direct"]
    seek_ax.bar([f"{n} p50" for n in names], [report["results"][n]["seek"]["seek_ms"]["p50"] for n in names])
    seek_ax.bar([f"{n} p95" for n in names], [report["results"][n]["seek"]["seek_ms"]["p95"] for n in names])
    seek_ax.axhline(150, color="red", linewidth=0.8)
    seek_ax.set(ylabel="ms", title=f"seek: playlist → first fragment ({report['index']['rows']} chunks)")
    fig.suptitle(f"GT-Vision watching, {report['when']} ({report['serve_proxy']})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
