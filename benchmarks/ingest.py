"""Ingest cost per recorded stream: our camera supervisors against ffmpeg -c copy.

For N = 1, 10, 50 streams of a pre-encoded 1280×720 H.264 clip (25 fps, 2 s
GOP, ~2 Mbps) served by the lean RTSP farm (tests/support/rtsp_farm.py; it
costs ≈ 0.02 % of a core per client, so the server hardly competes), measures
CPU (% of one core) and USS per stream for:

- ours, K = 1: N camera-host Ray actors, one supervisor each;
- ours, K = N: one camera-host Ray actor with N supervisors;
- ffmpeg: N ``ffmpeg -rtsp_transport tcp -i URL -c copy -f segment`` processes,

all recording 10 s segments/chunks to local disk (ours: spool with the default
fsync-per-fragment policy, then a directory object store and a PostgreSQL
index), in the same run. At the largest N, ours and ffmpeg run --rounds times (3) in alternating order and the
median ratio is reported: one pair differs from the next by about ±0.06 on this box. Prints JSON, writes --out
and a PNG beside it.
``--flame SVG`` also samples the dense host at the largest N with py-spy
(``--native``, which pauses the process per sample) for 20 s after its
measurement, so the profile never perturbs the numbers.

    .venv/bin/python -m benchmarks.ingest --streams 1 10 50 --out benchmarks/results/ingest.json \
        --flame benchmarks/results/ingest_dense50.svg
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any, cast

import ray

from actors.camera_host import RUNTIME_ENV, CameraHost
from benchmarks.procfs import cpu_percent_over, uss_kib
from benchmarks.report import base_parser, publish
from domain.camera import CameraSpec
from domain.settings import Settings
from domain.stream_url import parse_stream_url
from runtime.local_ray import init_local_ray
from storage import cameras, tenants
from storage.db import create_pool, migrate
from tests.support.databases import create_database, drop_database
from tests.support.ports import free_port
from tests.support.processes import stop_process
from tests.support.rtsp_camera import RtspFarm

CHUNK_S = 10
FLAME_S = 20


def measure(pids: list[int], window_s: float) -> dict[str, float]:
    cpu = cpu_percent_over(pids, window_s)
    return {"cpu_pct": sum(cpu.values()), "uss_mib": sum(uss_kib(pid) for pid in pids) / 1024}


def profile(pid: int, flame: Path) -> None:
    """A py-spy flame graph of ``pid``; a profiler that fails or hangs costs the picture, not the measurement."""
    # --native unwinds every thread's C stack per sample: slow with 50 ingest threads, hence the low rate.
    cmd = [str(Path(sys.executable).with_name("py-spy")), "record", "--native", "-r", "20", "-d", str(FLAME_S),
           "-o", str(flame), "--pid", str(pid)]
    try:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=FLAME_S * 15)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"py-spy failed, no flame graph: {exc}", file=sys.stderr, flush=True)


def run_ours(specs: list[CameraSpec], per_host: int, settings: Settings, warmup_s: float, window_s: float,
             flame: Path | None = None) -> dict[str, Any]:
    hosts = [cast(Any, ray.remote(CameraHost)).options(num_cpus=0, max_concurrency=1000, runtime_env=RUNTIME_ENV)
             .remote(settings, i)
             for i in range(0, len(specs), per_host)]
    ray.get([hosts[i // per_host].add.remote(spec) for i, spec in enumerate(specs)], timeout=300)
    pids = ray.get([h.pid.remote() for h in hosts])
    time.sleep(warmup_s)
    streaming = sum(1 for h in hosts for s in ray.get(h.running.remote()) if
                    ray.get(h.status.remote(s))["state"] == "streaming")
    result = measure(pids, window_s)
    if flame is not None:
        profile(pids[0], flame)
    statuses = [ray.get(h.status.remote(s)) for h in hosts for s in ray.get(h.running.remote())]
    ray.get([h.shutdown.remote() for h in hosts], timeout=300)
    for h in hosts:
        ray.kill(h)
    n = len(specs)
    stored = sum(s["chunks_recorded"] for s in statuses)
    if streaming < n or stored < n:  # a measurement of idle supervisors says nothing about ingest
        states = sorted({(s["state"], s["reason"], s["detail"]) for s in statuses}, key=str)
        raise RuntimeError(f"only {streaming}/{n} streams streaming and {stored} chunks stored: run invalid; {states}")
    return {"processes": len(hosts), "streaming": streaming, "cpu_pct_per_stream": round(result["cpu_pct"] / n, 3),
            "uss_mib_per_stream": round(result["uss_mib"] / n, 1),
            "chunks_stored": stored,
            "dropped_packets": sum(s["extra"]["dropped_packets"] for s in statuses)}


def run_ffmpeg(urls: list[str], out: Path, warmup_s: float, window_s: float) -> dict[str, Any]:
    procs = []
    for i, url in enumerate(urls):
        target = out / f"ffmpeg-{i}"
        target.mkdir(parents=True)
        procs.append(subprocess.Popen(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url, "-c", "copy",
             "-f", "segment", "-segment_time", str(CHUNK_S), "-reset_timestamps", "1", str(target / "%05d.mp4")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        time.sleep(warmup_s)
        result = measure([p.pid for p in procs], window_s)
    finally:
        for p in procs:
            stop_process(p)
    n = len(urls)
    return {"processes": n, "cpu_pct_per_stream": round(result["cpu_pct"] / n, 3),
            "uss_mib_per_stream": round(result["uss_mib"] / n, 1)}


async def make_cameras(dsn: str, urls: list[str], city: str) -> list[CameraSpec]:
    pool = await create_pool(dsn, max_size=2)
    try:
        await migrate(pool)
        tenant = await tenants.create(pool, city)
        return [(await cameras.create(pool, tenant_id=tenant.id, name=f"s{i}", vendor="generic",
                                      stream=parse_stream_url(url))).spec() for i, url in enumerate(urls)]
    finally:
        await pool.close()


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [r["streams"] for r in report["runs"]]
    fig, (cpu, mem) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("ours_k1", "GT-Vision K=1"), ("ours_dense", "GT-Vision K=N"), ("ffmpeg", "ffmpeg -c copy")):
        if any(r[key] is None for r in report["runs"]):
            continue  # not measured in this run (--skip-k1)
        cpu.plot(ns, [r[key]["cpu_pct_per_stream"] for r in report["runs"]], marker="o", label=label)
        mem.plot(ns, [r[key]["uss_mib_per_stream"] for r in report["runs"]], marker="o", label=label)
    for ax, title in ((cpu, "CPU per stream (% of one core)"), (mem, "USS per stream (MiB)")):
        ax.set_xscale("log")
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.set_xlabel("streams (1280×720, 25 fps, 2 Mbps)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"Ingest cost, {report['machine']['cores']} cores, {report['when'][:10]}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = base_parser(__doc__, warmup_s=15.0)
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--flame", type=Path, default=None, help="py-spy flame graph (SVG) of the largest dense run")
    parser.add_argument("--skip-k1", action="store_true", help="measure dense and ffmpeg only")
    parser.add_argument("--dense-k", type=int, default=None, help="cameras per host of the dense run (all on one: default)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="dense/ffmpeg pairs at the largest count, in alternating order; the median ratio is reported")
    args = parser.parse_args()
    loadavg_before = Path("/proc/loadavg").read_text().split()[:3]
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory(prefix="gtv-ingest-") as tmp_name:
        tmp = Path(tmp_name)
        farm = RtspFarm(free_port(), [], count=3 * sum(args.streams), width=1280, height=720, fps=25, gop=50,
                        kbps=2000)
        farm.start()
        mount = iter(range(3 * sum(args.streams)))
        dsn = asyncio.run(create_database())
        init_local_ray(include_dashboard=False, log_to_driver=False, namespace="gtv-bench")
        try:
            runs = []
            for n in args.streams:
                k1_urls, dense_urls, ffmpeg_urls = ([farm.url(f"s{next(mount)}") for _ in range(n)]
                                                    for _ in range(3))
                k1_specs = asyncio.run(make_cameras(dsn, k1_urls, f"K=1 ×{n}"))
                dense_specs = asyncio.run(make_cameras(dsn, dense_urls, f"K=N ×{n}"))
                settings = Settings(database_url=dsn, object_store_url=(tmp / f"objects-{n}").as_uri(),
                                    public_url="http://127.0.0.1:1", secret="bench", chunk_max_s=CHUNK_S,
                                    spool_dir=str(tmp / f"spool-{n}"), bus_url="redis://127.0.0.1:6379/0?prefix=gtv-bench:")
                k1 = None if args.skip_k1 else run_ours(k1_specs, 1, settings, args.warmup, args.window)
                rounds = []
                for r in range(args.rounds if n == max(args.streams) else 1):
                    flame = args.flame if n == max(args.streams) and r == 0 else None
                    dense_run = partial(run_ours, dense_specs, args.dense_k or n, settings, args.warmup, args.window,
                                        flame)
                    peer_run = partial(run_ffmpeg, ffmpeg_urls, tmp / f"ffmpeg-{n}-{r}", args.warmup, args.window)
                    # Alternate which goes first: a box getting busier or quieter favours neither.
                    if r % 2 == 0:
                        dense, peer = dense_run(), peer_run()
                    else:
                        peer, dense = peer_run(), dense_run()
                    rounds.append({"ours_dense": dense, "ffmpeg": peer,
                                   "ratio": round(dense["cpu_pct_per_stream"] / peer["cpu_pct_per_stream"], 2)})
                middle = sorted(rounds, key=lambda x: x["ratio"])[len(rounds) // 2]  # the median round
                dense, peer = middle["ours_dense"], middle["ffmpeg"]
                runs.append({"streams": n, "ours_k1": k1, "ours_dense": dense, "ffmpeg": peer,
                             "cpu_ratio_k1": k1 and round(k1["cpu_pct_per_stream"] / peer["cpu_pct_per_stream"], 2),
                             "cpu_ratio_dense": middle["ratio"], "rounds": rounds})
                print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
        finally:
            ray.shutdown()
            farm.stop()
            asyncio.run(drop_database(dsn))
    largest = max(runs, key=lambda r: r["streams"])
    report = publish("ingest", {
        "source": "1280x720 H.264 25 fps, GOP 50, no B-frames, 2 Mbps, served by the RTSP farm without re-encoding",
        "loadavg_before": loadavg_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "cpu_ratio_vs_ffmpeg": largest["cpu_ratio_dense"],
        "cpu_ratio_vs_ffmpeg_at_streams": largest["streams"],
        "cpu_ratio_dense_by_streams": {str(r["streams"]): r["cpu_ratio_dense"] for r in runs},
        "cpu_pct_per_stream": {str(r["streams"]): {"k1": r["ours_k1"] and r["ours_k1"]["cpu_pct_per_stream"],
                                                   "dense": r["ours_dense"]["cpu_pct_per_stream"],
                                                   "ffmpeg": r["ffmpeg"]["cpu_pct_per_stream"]} for r in runs},
        "uss_mib_per_stream_k1": {str(r["streams"]): r["ours_k1"] and r["ours_k1"]["uss_mib_per_stream"]
                                  for r in runs},
        "uss_mib_per_stream_dense": {str(r["streams"]): r["ours_dense"]["uss_mib_per_stream"] for r in runs},
        "uss_mib_per_stream_ffmpeg": {str(r["streams"]): r["ffmpeg"]["uss_mib_per_stream"] for r in runs},
        "window_s": args.window,
        "runs": runs,
    }, args.out)
    if args.out:
        plot(report, args.out.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
