"""Scale: ramp sub-stream cameras through the whole system until a step fails.

The whole system on its default dense hosting (about one camera host per core,
domain/density.py), recording through the real path — camera hosts spooling
fMP4 chunks, uploading them to a directory object store and indexing them in a
PostgreSQL database of its own — with cameras added through the API in steps
(default 100 250 500 750 1000). The cameras are sessions of the lean RTSP farm
(tests/support/rtsp_farm.py) serving the sub-stream profile: 640×360, 15 fps,
GOP 15 (1 s), ~384 kbps; as many farm processes as ``--cameras-per-farm`` asks,
their CPU reported apart from ours.

Each step: add the cameras, wait until every camera is streaming (camera status
history, bounded), let the step warm up, then measure over the rest of it:

- CPU (% of one core) and USS per camera of the camera hosts;
- Ray's own cost (raylet, GCS, workers that are not camera hosts: the Fleet,
  Serve's controller, proxy and replica, the bus, the city hosts) and the
  PostgreSQL backends connected to this run's database (the server's shared
  background processes serve other databases too and are not counted);
- gaps per camera from the index: holes in each camera's recorded runs
  (storage/timeline.py, 5 ms continuity) over [window start, window end − one
  chunk], asked one chunk duration after the window ends: every instant of
  that span is in a chunk that ended by the window's end, so a hole is a chunk
  not indexed within one chunk duration of its end (the upload-lag bound) or
  video not recorded. Asked at the window's end instead, the chunks that ended
  in its last second or so are not indexed yet and each leaves a hole as long
  as its upload lag: that was issue 13's "21 cameras with a 1 s hole" (the
  holes the early look sees are reported apart, ``holes_at_window_end``);
- upload lag p99: ``recordings.created_at`` (the index insert) − the chunk's
  end, over chunks that ended in the window (asked at the same later time, so
  the chunks that ended just before the window's end count too);
- API p99 of camera status and timeline requests from a small client in this
  process (``--api-rps``, one request at a time), while loaded;
- the load average, and the machine's busy share.

Then, once the index has been asked, where it fits (the count × the last
measured ffmpeg CPU per process is under ``--ffmpeg-cores``), as many
``ffmpeg -c copy -f segment`` processes record the same farm mounts for
``--ffmpeg-window`` s beside our still-running system (so the box is shared,
as it is for ours); null where skipped.

A step fails on any gap, an upload lag p99 ≥ one chunk duration or a camera
not streaming; the run stops there and says what failed first. An API p99 over
``--api-p99-ms`` is reported with the step (``api_slow``) but does not stop
the ramp: ``cameras_sustained`` counts what recording sustains. ``cameras_sustained`` is the largest passing step. Writes
--out and a PNG (cameras vs CPU and memory) beside it.

    .venv/bin/python -m benchmarks.scale --steps 100 250 500 750 1000 --step-s 300 \
        --out benchmarks/results/scale.json
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx

from benchmarks.procfs import children, cmdline, cpu_seconds, uss_kib
from benchmarks.report import base_parser, publish
from runtime.local_ray import init_local_ray

PROFILE = {"width": 640, "height": 360, "fps": 15, "gop": 15, "kbps": 384}
MANAGER_PASSWORD = "scale benchmark password"
CAMERA_ADD_TIMEOUT_S = 30.0
API_TIMEOUT_S = 10.0
TIMELINE_SPAN = timedelta(minutes=10)


# --- processes and what they cost -------------------------------------------------------------------------------

def _group(pid: int, driver: int) -> str:
    """Which part of the run a process is (by its command line)."""
    if pid == driver:
        return "benchmark_driver"
    command = cmdline(pid)
    for pattern, name in ((r"tests\.support\.rtsp_farm", "farm"), (r"^ffmpeg", "ffmpeg"),
                          (r"ray::CameraHost", "camera_hosts"), (r"raylet", "ray_raylet"),
                          (r"gcs_server", "ray_gcs"),
                          (r"ServeReplica|ServeController|ProxyActor", "ray_serve"), (r"^ray::", "ray_workers")):
        if re.search(pattern, command):
            return name
    return "ray_other"  # Ray's helpers (log monitor, runtime-env agent, idle workers)


def _machine_busy() -> tuple[int, int]:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def _loadavg() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


@dataclass
class CpuWindow:
    """CPU seconds of a set of processes from one instant to another, grouped."""

    pids: dict[int, str]
    started: float = field(default_factory=time.monotonic)
    before: dict[int, float] = field(default_factory=dict)
    busy: tuple[int, int] = field(default_factory=_machine_busy)

    def __post_init__(self) -> None:
        self.before = {pid: cpu_seconds(pid) for pid in self.pids}

    def percent_by_group(self) -> tuple[dict[str, float], float]:
        """% of one core per group since the start, and the machine's busy %."""
        elapsed = time.monotonic() - self.started
        groups: dict[str, float] = {}
        for pid, group in self.pids.items():
            used = max(0.0, cpu_seconds(pid) - self.before[pid])
            groups[group] = groups.get(group, 0.0) + 100 * used / elapsed
        busy, total = _machine_busy()
        machine = 100 * (busy - self.busy[0]) / max(1, total - self.busy[1])
        return {k: round(v, 2) for k, v in sorted(groups.items())}, round(machine, 1)


async def _postgres_backends(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                " AND pid <> pg_backend_pid()")
        return [int(r["pid"]) for r in rows]
    finally:
        await conn.close()


def our_processes(dsn: str) -> dict[int, str]:
    """Every process of this run (its children: Ray, farms, ffmpeg) by group, and this database's backends."""
    me = os.getpid()
    pids = {pid: _group(pid, me) for pid in children(me)}
    for pid in asyncio.run(_postgres_backends(dsn)):
        pids[pid] = "postgres_backends"
    return pids


# --- the API: cameras added, and a small client measuring latency ------------------------------------------------

@dataclass
class City:
    client: httpx.Client
    tenant_id: str
    username: str
    headers: dict[str, str]
    cameras: list[str] = field(default_factory=list)

    def sign_in(self) -> None:
        """A fresh token (a step can outlast an access token's 15 min)."""
        self.headers = _login(self.client, self.username, MANAGER_PASSWORD)

    def add_camera(self, rtsp_url: str) -> None:
        made = self.client.post("/cameras", headers=self.headers, timeout=CAMERA_ADD_TIMEOUT_S,
                                json={"name": f"Câmera {len(self.cameras) + 1:04d}", "rtsp_url": rtsp_url})
        if made.status_code != 201:
            raise RuntimeError(f"camera not added: {made.status_code} {made.text}")
        self.cameras.append(made.json()["id"])


def _login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    answer = client.post("/auth/login", json={"username": username, "password": password})
    if answer.status_code != 200:
        raise RuntimeError(f"login of {username} failed: {answer.status_code} {answer.text}")
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def new_city(client: httpx.Client, admin_password: str) -> City:
    admin = _login(client, "admin", admin_password)
    tenant = client.post("/tenants", json={"name": f"Escala {uuid4().hex[:6]}"}, headers=admin)
    tenant.raise_for_status()
    username = f"escala-{uuid4().hex[:6]}"
    made = client.post("/users", headers=admin, json={"username": username, "password": MANAGER_PASSWORD,
                                                      "role": "manager", "tenant_id": tenant.json()["id"]})
    made.raise_for_status()
    return City(client, tenant.json()["id"], username, _login(client, username, MANAGER_PASSWORD))


class ApiProbe(threading.Thread):
    """Camera status and timeline requests, one at a time at up to ``rps`` a second, until stopped."""

    def __init__(self, city: City, base_url: str, rps: float) -> None:
        super().__init__(daemon=True, name="api-probe")
        self.city, self.base_url, self.interval = city, base_url, 1 / rps
        self.latency_ms: dict[str, list[float]] = {"status": [], "timeline": []}
        self.errors: dict[str, int] = {"status": 0, "timeline": 0}
        self._done = threading.Event()

    def run(self) -> None:
        cameras = list(self.city.cameras)
        with httpx.Client(base_url=self.base_url, timeout=API_TIMEOUT_S, headers=self.city.headers) as client:
            n = 0
            while not self._done.is_set():
                kind = "status" if n % 2 == 0 else "timeline"
                camera = random.choice(cameras)
                params: dict[str, str] = {}
                if kind == "timeline":
                    end = datetime.now(UTC)
                    params = {"start": (end - TIMELINE_SPAN).isoformat(), "end": end.isoformat()}
                started = time.monotonic()
                try:
                    answer = client.get(f"/cameras/{camera}/{kind}", params=params)
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = time.monotonic() - started
                # a failed request counts as slow as the timeout: it did not answer in time for an operator
                self.latency_ms[kind].append(1000 * (elapsed if ok else API_TIMEOUT_S))
                self.errors[kind] += 0 if ok else 1
                n += 1
                self._done.wait(max(0.0, self.interval - elapsed))

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=API_TIMEOUT_S + 5)

    def summary(self) -> dict[str, Any]:
        every = self.latency_ms["status"] + self.latency_ms["timeline"]
        return {"requests": len(every), "errors": dict(self.errors), "p99_ms": _p99(every),
                "status_p99_ms": _p99(self.latency_ms["status"]),
                "timeline_p99_ms": _p99(self.latency_ms["timeline"]),
                "p50_ms": _percentile(every, 0.5)}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 1)


def _p99(values: list[float]) -> float | None:
    return _percentile(values, 0.99)


# --- what the index says ----------------------------------------------------------------------------------------

async def streaming_count(dsn: str, tenant_id: str) -> dict[str, int]:
    from storage.tenant_health import states_of_city

    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    try:
        return await states_of_city(pool, UUID(tenant_id))
    finally:
        await pool.close()


async def index_figures(dsn: str, tenant_id: str, cameras: list[str], start: datetime, end: datetime,
                        chunk_s: float) -> dict[str, Any]:
    """Gaps per camera over [start, end − chunk) and the upload lag of chunks that ended in [start, end)."""
    from domain.timeline import gaps
    from storage import timeline

    gap_end = end - timedelta(seconds=chunk_s)
    ids = [UUID(c) for c in cameras]
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=1)
    try:
        by_camera: dict[UUID, list[Any]] = {cid: [] for cid in ids}
        if gap_end > start:
            for run in await timeline.runs(pool, UUID(tenant_id), ids, start, gap_end):
                by_camera[run.camera_id].append(run.span)
        holes = {cid: gaps(spans, start, gap_end) if gap_end > start else [] for cid, spans in by_camera.items()}
        transitions = await pool.fetch(
            """SELECT camera_id, at, previous, state, reason FROM camera_status_history
               WHERE tenant_id = $1 AND at >= $2 AND at < $3 ORDER BY at""", UUID(tenant_id), start, end)
        lag = await pool.fetchrow(
            """SELECT count(*) AS chunks,
                      percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - upper(time_range)))
                          AS p99,
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM created_at - upper(time_range)))
                          AS p50,
                      max(extract(epoch FROM created_at - upper(time_range))) AS max
               FROM recordings WHERE tenant_id = $1 AND upper(time_range) >= $2 AND upper(time_range) < $3""",
            UUID(tenant_id), start, end)
    finally:
        await pool.close()
    gap_counts = [len(h) for h in holes.values()]
    return {
        "gap_window_s": round(max(0.0, (gap_end - start).total_seconds()), 1),
        "gaps": sum(gap_counts),
        "cameras_with_gaps": sum(1 for g in gap_counts if g),
        "gap_seconds": round(sum((g.end - g.start).total_seconds() for h in holes.values() for g in h), 1),
        "chunks_indexed_in_window": int(lag["chunks"]),
        "upload_lag_s": {k: None if lag[k] is None else round(float(lag[k]), 2) for k in ("p50", "p99", "max")},
        # every hole (camera, where): to correlate with the farm's skips, status changes and chunk rotation
        "holes": [{"camera": str(cid), "start": g.start.isoformat(timespec="milliseconds"),
                   "end": g.end.isoformat(timespec="milliseconds"),
                   "s": round((g.end - g.start).total_seconds(), 3)} for cid, h in holes.items() for g in h][:500],
        "status_changes_in_window": [{"camera": str(r["camera_id"]), "at": r["at"].isoformat(timespec="milliseconds"),
                                      "from": r["previous"], "to": r["state"], "reason": r["reason"]}
                                     for r in transitions][:500],
    }


def index_asked_at(window_end: datetime, chunk_s: float) -> datetime:
    """When a step's gaps are asked of the index: one chunk duration after its window ends.

    Gaps are looked for up to window end − one chunk, so every instant there is in a chunk that ended by the
    window's end; asked one chunk later, each such chunk has had the upload-lag bound (one chunk) to be indexed.
    Asked at the window's end, a chunk that ended in its last second is not indexed yet and leaves a hole as
    long as its upload lag (issue 13).
    """
    return window_end + timedelta(seconds=chunk_s)



# --- the peer: ffmpeg -c copy -----------------------------------------------------------------------------------

def run_ffmpeg(urls: list[str], out: Path, chunk_s: float, warmup_s: float, window_s: float) -> dict[str, Any]:
    from tests.support.processes import stop_process

    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i, url in enumerate(urls):
            target = out / f"ffmpeg-{i}"
            target.mkdir(parents=True, exist_ok=True)
            procs.append(subprocess.Popen(
                ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url, "-c", "copy",
                 "-f", "segment", "-segment_time", str(chunk_s), "-reset_timestamps", "1",
                 str(target / "%05d.mp4")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(warmup_s)
        pids = [p.pid for p in procs]
        before = {pid: cpu_seconds(pid) for pid in pids}
        time.sleep(window_s)
        cpu = sum(100 * (cpu_seconds(pid) - before[pid]) / window_s for pid in pids)
        uss = sum(uss_kib(pid) for pid in pids) / 1024
        alive = sum(1 for p in procs if p.poll() is None)
    finally:
        for p in procs:
            stop_process(p)
        shutil.rmtree(out, ignore_errors=True)
    n = len(urls)
    return {"processes": n, "alive": alive, "window_s": window_s, "cpu_pct_per_camera": round(cpu / n, 3),
            "uss_mib_per_camera": round(uss / n, 2)}


# --- a step -----------------------------------------------------------------------------------------------------

@dataclass
class Run:
    args: Any
    dsn: str
    city: City
    base_url: str
    farm_urls: list[str]
    work: Path
    ffmpeg_pct_per_camera: float
    farms: list[Any] = field(default_factory=list)


def ramp(run: Run, n: int) -> tuple[float, dict[str, int]]:
    """Add cameras up to ``n`` and wait (bounded) until all are streaming; (seconds it took, states)."""
    started = time.monotonic()
    run.city.sign_in()
    while len(run.city.cameras) < n:
        run.city.add_camera(run.farm_urls[len(run.city.cameras)])
    deadline = started + run.args.ramp_timeout
    states: dict[str, int] = {}
    while time.monotonic() < deadline:
        states = asyncio.run(streaming_count(run.dsn, run.city.tenant_id))
        if states.get("streaming", 0) >= n:
            break
        time.sleep(2)
    return round(time.monotonic() - started, 1), states


def step(run: Run, n: int) -> dict[str, Any]:
    args = run.args
    ramp_s, states = ramp(run, n)
    print(f"step {n}: ramp {ramp_s} s, states {states}", file=sys.stderr, flush=True)
    time.sleep(args.warmup)
    window_s = args.window or max(10.0, args.step_s - args.warmup)
    run.city.sign_in()
    probe = ApiProbe(run.city, run.base_url, args.api_rps)
    pids = our_processes(run.dsn)
    load_before = _loadavg()
    window_start = datetime.now(UTC)
    cpu = CpuWindow(pids)
    probe.start()
    try:
        time.sleep(window_s)
    finally:
        probe.stop()
    groups, machine_busy = cpu.percent_by_group()
    window_end = datetime.now(UTC)
    farm_stats = [farm.stats() for farm in run.farms]
    uss_hosts = sum(uss_kib(pid) for pid, g in pids.items() if g == "camera_hosts") / 1024
    states_after = asyncio.run(streaming_count(run.dsn, run.city.tenant_id))
    early = asyncio.run(index_figures(run.dsn, run.city.tenant_id, run.city.cameras, window_start, window_end,
                                      args.chunk_s))
    api = probe.summary()
    hosts_pct = groups.get("camera_hosts", 0.0)
    ray_pct = sum(v for k, v in groups.items() if k.startswith("ray_"))
    result: dict[str, Any] = {
        "cameras": n, "ramp_s": ramp_s, "window_s": round(window_s, 1),
        "window": {"start": window_start.isoformat(timespec="milliseconds"),
                   "end": window_end.isoformat(timespec="milliseconds"),
                   "gap_end": (window_end - timedelta(seconds=args.chunk_s)).isoformat(timespec="milliseconds")},
        "streaming": states_after.get("streaming", 0), "states": states_after,
        "camera_hosts": {"processes": sum(1 for g in pids.values() if g == "camera_hosts"),
                         "cpu_pct": hosts_pct, "cpu_pct_per_camera": round(hosts_pct / n, 3),
                         "uss_mib": round(uss_hosts, 1), "uss_mib_per_camera": round(uss_hosts / n, 2)},
        "ray_overhead_cpu_pct": round(ray_pct, 2),
        "postgres_backends_cpu_pct": groups.get("postgres_backends", 0.0),
        "farm_cpu_pct": groups.get("farm", 0.0),
        "farm_timeline": farm_timeline(farm_stats, window_start, window_end),
        "cpu_pct_by_group": groups,
        "machine_busy_pct": machine_busy,
        "loadavg_before": load_before, "loadavg_after": _loadavg(),
        "api": api,
    }
    # The index is asked once every chunk that ended in the window has had one chunk duration to be indexed;
    # what it lacks then is video lost or indexed too late. Asked before the ffmpeg peer starts: at 500 cameras
    # the peer's 500 processes beside ours stalled 72 of our cameras and held the window's last chunks back from
    # the index for up to two minutes, which the step then counted as our gap.
    time.sleep(max(0.0, (index_asked_at(window_end, args.chunk_s) - datetime.now(UTC)).total_seconds()))
    result.update(asyncio.run(index_figures(run.dsn, run.city.tenant_id, run.city.cameras, window_start,
                                            window_end, args.chunk_s)))
    result["ffmpeg"] = None
    if n * run.ffmpeg_pct_per_camera < 100 * args.ffmpeg_cores:
        result["ffmpeg"] = run_ffmpeg(run.farm_urls[:n], run.work / "ffmpeg", args.chunk_s, 10.0,
                                      args.ffmpeg_window)
        run.ffmpeg_pct_per_camera = result["ffmpeg"]["cpu_pct_per_camera"]
        result["cpu_ratio_vs_ffmpeg"] = round(result["camera_hosts"]["cpu_pct_per_camera"]
                                              / max(1e-9, result["ffmpeg"]["cpu_pct_per_camera"]), 2)
    result["holes_at_window_end"] = {k: early[k] for k in ("gaps", "cameras_with_gaps", "gap_seconds",
                                                           "chunks_indexed_in_window", "holes")}
    result["failures"] = failures(result, n, args)
    result["api_slow"] = api_slow(result, args)
    return result


def farm_timeline(stats: list[dict[str, Any]], start: datetime, end: datetime) -> dict[str, Any]:
    """The farms' timeline skips (each drops about a second of every playing session's video) in [start, end),
    with their times, and the farms' largest lateness since they started."""
    events = [e for farm in stats for e in farm["events"] if start <= datetime.fromisoformat(e["at"]) < end]
    return {"skips_in_window": len(events), "skip_events": events[:200],
            "skips_total": sum(f["skips"] for f in stats),
            "late_max_s": max((f["late_max_s"] for f in stats), default=None),
            "late_frames_total": sum(f["late_frames"] for f in stats)}


def failures(result: dict[str, Any], n: int, args: Any) -> list[str]:
    """What failed in a step, in the order checked (the first is what failed first)."""
    found = []
    if result["streaming"] < n:
        found.append(f"cameras not streaming: {n - result['streaming']} of {n} ({result['states']})")
    if result["gaps"]:
        found.append(f"gaps: {result['gaps']} in {result['cameras_with_gaps']} cameras "
                     f"({result['gap_seconds']} s over a {result['gap_window_s']} s window)")
    lag = result["upload_lag_s"]["p99"]
    if lag is None or lag >= args.chunk_s:
        found.append(f"upload lag p99 {lag} s ≥ one chunk ({args.chunk_s} s)" if lag is not None
                     else "no chunk indexed in the window")
    return found


def api_slow(result: dict[str, Any], args: Any) -> str | None:
    """Why the step's API was too slow for an operator, if it was: reported, but not what ``cameras_sustained``
    counts (recording without gaps and uploads within a chunk are)."""
    p99 = result["api"]["p99_ms"]
    if p99 is None or p99 > args.api_p99_ms:
        return f"API p99 {p99} ms > {args.api_p99_ms} ms (errors {result['api']['errors']})"
    return None


# --- the plot ---------------------------------------------------------------------------------------------------

def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = report["steps"]
    ns = [s["cameras"] for s in steps]
    fig, (cpu, mem) = plt.subplots(1, 2, figsize=(11, 4))
    cpu.plot(ns, [s["camera_hosts"]["cpu_pct"] / 100 for s in steps], marker="o", label="camera hosts")
    cpu.plot(ns, [s["ray_overhead_cpu_pct"] / 100 for s in steps], marker="o", label="Ray + Serve")
    cpu.plot(ns, [s["postgres_backends_cpu_pct"] / 100 for s in steps], marker="o", label="PostgreSQL")
    cpu.plot(ns, [s["machine_busy_pct"] * report["machine"]["cores"] / 100 for s in steps], marker="o",
             linestyle="--", label="whole machine (all its users)")
    peer = [(s["cameras"], s["ffmpeg"]["cpu_pct_per_camera"] * s["cameras"] / 100) for s in steps if s["ffmpeg"]]
    if peer:
        cpu.plot(*zip(*peer, strict=True), marker="s", label="ffmpeg -c copy")
    cpu.axhline(report["machine"]["cores"], color="grey", linewidth=0.8)
    cpu.set_ylabel("cores")
    mem.plot(ns, [s["camera_hosts"]["uss_mib"] / 1024 for s in steps], marker="o", label="camera hosts (USS)")
    mem_peer = [(s["cameras"], s["ffmpeg"]["uss_mib_per_camera"] * s["cameras"] / 1024) for s in steps if s["ffmpeg"]]
    if mem_peer:
        mem.plot(*zip(*mem_peer, strict=True), marker="s", label="ffmpeg -c copy (USS)")
    mem.set_ylabel("GiB")
    for ax, title in ((cpu, "CPU"), (mem, "Memory")):
        ax.set_xlabel("cameras (640×360, 15 fps, 384 kbps)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Scale, {report['machine']['cores']} cores, steps of {report['step_s']:.0f} s, "
                 f"{report['when'][:10]}: sustained {report['cameras_sustained']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# --- main -------------------------------------------------------------------------------------------------------

def main() -> int:
    parser = base_parser(__doc__, warmup_s=60.0)
    parser.set_defaults(window=0.0)
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 250, 500, 750, 1000])
    parser.add_argument("--step-s", type=float, default=300.0,
                        help="seconds recorded per step after its cameras stream (warm-up + window); the window "
                             "is what --warmup leaves unless --window is given")
    parser.add_argument("--chunk-s", type=float, default=60.0, help="chunk duration (Settings.chunk_max_s)")
    parser.add_argument("--api-rps", type=float, default=4.0, help="API probe requests a second")
    parser.add_argument("--api-p99-ms", type=float, default=1000.0, help="a step's API is slow above this p99")
    parser.add_argument("--ramp-timeout", type=float, default=300.0, help="seconds for a step's cameras to stream")
    parser.add_argument("--cameras-per-farm", type=int, default=500, help="RTSP sessions per farm process")
    parser.add_argument("--ffmpeg-cores", type=float, default=1.5,
                        help="run the ffmpeg peer at a step only if it should need fewer cores than this")
    parser.add_argument("--ffmpeg-window", type=float, default=30.0, help="seconds the ffmpeg peer is measured")
    parser.add_argument("--ffmpeg-prior-pct", type=float, default=0.3,
                        help="ffmpeg %% of a core per camera assumed before the first measurement")
    parser.add_argument("--keep-db", action="store_true",
                        help="keep the run's database (its name is printed and in the JSON) to study it afterwards")
    parser.add_argument("--farm-log", type=Path, default=None,
                        help="directory for the farms' logs (a line per timeline skip: its time and sessions)")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

    import ray

    from domain.settings import Settings
    from tests.support.databases import create_database, drop_database
    from tests.support.ports import free_port
    from tests.support.rtsp_camera import RtspFarm
    from tests.support.system import ADMIN_PASSWORD, start_system

    largest = max(args.steps)
    loadavg_before = _loadavg()
    work = Path(tempfile.mkdtemp(prefix="gtv-scale-"))
    farms: list[RtspFarm] = []
    steps: list[dict[str, Any]] = []
    failed: dict[str, Any] | None = None
    dsn = asyncio.run(create_database())
    runtime = None
    ray_started = False
    try:
        per_farm = math.ceil(largest / math.ceil(largest / args.cameras_per_farm))
        if args.farm_log:
            args.farm_log.mkdir(parents=True, exist_ok=True)
        for i in range(math.ceil(largest / per_farm)):
            log = args.farm_log / f"farm-{i}.log" if args.farm_log else None
            farms.append(RtspFarm(free_port(), [], count=per_farm, fps=PROFILE["fps"], gop=PROFILE["gop"],
                                  width=PROFILE["width"], height=PROFILE["height"], kbps=PROFILE["kbps"], log=log))
            farms[-1].start(timeout_s=300)
        # camera i: farm i mod F, its mount i div F (so every farm carries its share at every step)
        farm_urls = [farms[i % len(farms)].url(f"s{i // len(farms)}") for i in range(largest)]
        port = free_port()
        settings = Settings(database_url=dsn, object_store_url=(work / "objects").as_uri(),
                            public_url=f"http://127.0.0.1:{port}", secret=uuid4().hex, api_port=port,
                            spool_dir=str(work / "spool"), clip_work_dir=str(work / "clips"),
                            camera_networks=("127.0.0.0/8",), chunk_max_s=args.chunk_s)
        init_local_ray(include_dashboard=False, log_to_driver=False, namespace=settings.namespace)
        ray_started = True
        runtime, client = start_system(settings, ADMIN_PASSWORD)
        city = new_city(client, ADMIN_PASSWORD)
        run = Run(args, dsn, city, f"{settings.public_url}/api/v1", farm_urls, work, args.ffmpeg_prior_pct, farms)
        for n in sorted(args.steps):
            try:
                steps.append(step(run, n))
            except (RuntimeError, httpx.HTTPError, asyncpg.PostgresError, OSError) as exc:
                # the step could not be run to its end (an add refused, the database gone): that is its failure
                failed = {"cameras": n, "first": f"step did not complete: {exc}", "all": [repr(exc)]}
                break
            print({k: v for k, v in steps[-1].items() if k != "cpu_pct_by_group"}, file=sys.stderr, flush=True)
            if steps[-1]["failures"]:
                failed = {"cameras": n, "first": steps[-1]["failures"][0], "all": steps[-1]["failures"]}
                break
    finally:
        if runtime is not None:
            runtime.stop()
        if ray_started:
            ray.shutdown()
        for farm in farms:
            farm.stop()
        if args.keep_db:
            print(f"kept the run's database: {dsn}", file=sys.stderr, flush=True)
        else:
            asyncio.run(drop_database(dsn))
        shutil.rmtree(work, ignore_errors=True)

    passing = [s["cameras"] for s in steps if not s["failures"]]
    best = max((s for s in steps if not s["failures"]), key=lambda s: s["cameras"], default=None)
    report = publish("scale", {
        "cameras_sustained": max(passing, default=0),
        "goals": {"cameras_sustained": 500, "cameras_sustained_stretch": 1000},
        "failed": failed,
        "profile": {**PROFILE, "codec": "H.264, no B-frames, served by the lean RTSP farm without re-encoding"},
        "step_s": args.step_s, "warmup_s": args.warmup, "chunk_s": args.chunk_s, "api_rps": args.api_rps,
        "api_p99_bound_ms": args.api_p99_ms, "farm_processes": len(farms),
        "kept_database": dsn if args.keep_db else None,
        "hosting": "default dense (cameras_per_host unset: about one camera host per core)",
        "at_sustained": best and {
            "cpu_pct_per_camera": best["camera_hosts"]["cpu_pct_per_camera"],
            "uss_mib_per_camera": best["camera_hosts"]["uss_mib_per_camera"],
            "ray_overhead_cpu_pct": best["ray_overhead_cpu_pct"],
            "postgres_backends_cpu_pct": best["postgres_backends_cpu_pct"],
            "machine_busy_pct": best["machine_busy_pct"]},
        "loadavg_before": loadavg_before,
        "steps": steps,
    }, args.out)
    if args.out and steps:
        plot(report, args.out.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
