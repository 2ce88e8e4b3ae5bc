"""Footprint of a running GT-Vision (``gtvision up``) with N demo cameras, against ffmpeg.

For each N: start ``gtvision up --demo-cameras N`` on embedded defaults, let it
warm up, then measure over a window the PSS memory and CPU of its whole process
tree (driver, Ray, Serve, camera hosts) plus the embedded PostgreSQL. The peer,
in the same run: N ``ffmpeg -re -c copy -f segment`` processes remuxing the
same test-pattern clip at real time into 60 s segments — the cheapest possible
recorder doing the same remux. Prints JSON; ``--out`` also writes it.

    .venv/bin/python -m benchmarks.footprint --cameras 0 4 16
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.procfs import children, cmdline, cpu_percent_over, owned_by, pss_kib
from benchmarks.report import base_parser, publish
from media.sources import _encode_pattern
from runtime.bootstrap import DEMO_SOURCE
from tests.support.processes import stop_process

STARTUP_TIMEOUT_S = 180


def _measure(pids: set[int], window_s: float) -> dict[str, Any]:
    cpu = cpu_percent_over(pids, window_s)
    pss = {pid: pss_kib(pid) for pid in pids}
    groups: dict[str, dict[str, float]] = {}
    for pid in pids:
        name = _group(cmdline(pid))
        g = groups.setdefault(name, {"processes": 0, "pss_mib": 0.0, "cpu_percent": 0.0})
        g["processes"] += 1
        g["pss_mib"] += pss[pid] / 1024
        g["cpu_percent"] += cpu[pid]
    return {
        "processes": len(pids),
        "pss_mib": round(sum(pss.values()) / 1024, 1),
        "cpu_percent": round(sum(cpu.values()), 2),
        "by_group": {k: {kk: round(vv, 2) for kk, vv in v.items()} for k, v in sorted(groups.items())},
    }


def _group(command: str) -> str:
    for pattern, name in ((r"ray::CameraHost", "camera_hosts"), (r"ray::Fleet", "fleet"),
                          (r"ray::MemoryStreams", "event_bus"), (r"ServeReplica|ray::ServeReplica", "serve_replica"),
                          (r"ServeController", "serve_controller"), (r"ProxyActor", "serve_proxy"),
                          (r"gcs_server", "ray_gcs"), (r"raylet", "raylet"), (r"dashboard", "ray_dashboard"),
                          (r"postgres", "postgres"), (r"gtvision up", "driver"), (r"ffmpeg", "ffmpeg")):
        if re.search(pattern, command):
            return name
    return "ray_other"


def run_gtvision(cameras: int, warmup_s: float, window_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gtv-bench-") as var_dir:
        env = dict(os.environ, GTVISION_ADMIN_PASSWORD="benchmark-password", RAY_USAGE_STATS_ENABLED="0")
        started = time.monotonic()
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("gtvision")), "up", "--var-dir", var_dir, "--port", "18080",
             "--demo-cameras", str(cameras)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        assert proc.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        for line in proc.stdout:
            if "GT-Vision is up" in line:
                break
            if time.monotonic() > deadline:
                proc.terminate()
                raise TimeoutError("gtvision up did not come up")
        up_s = time.monotonic() - started
        time.sleep(warmup_s)
        pids = children(proc.pid) | owned_by("pgserver")
        result = _measure(pids, window_s)
        proc.send_signal(2)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
        return {"cameras": cameras, "startup_s": round(up_s, 1), **result}


def run_ffmpeg(cameras: int, warmup_s: float, window_s: float) -> dict[str, Any]:
    if cameras == 0:
        return {"cameras": 0, "processes": 0, "pss_mib": 0.0, "cpu_percent": 0.0}
    from urllib.parse import parse_qs, urlsplit

    q = parse_qs(urlsplit(DEMO_SOURCE).query)
    clip = _encode_pattern(int(q["w"][0]), int(q["h"][0]), int(q["fps"][0]), 4)
    with tempfile.TemporaryDirectory(prefix="gtv-bench-ffmpeg-") as tmp:
        source = Path(tmp) / "clip.mp4"
        source.write_bytes(clip)
        procs = []
        for i in range(cameras):
            out = Path(tmp) / f"cam{i}"
            out.mkdir()
            procs.append(subprocess.Popen(
                ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(source),
                 "-c", "copy", "-f", "segment", "-segment_time", "60", "-reset_timestamps", "1",
                 "-segment_format", "mp4", str(out / "%05d.mp4")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        try:
            time.sleep(warmup_s)
            result = _measure({p.pid for p in procs}, window_s)
        finally:
            for p in procs:
                stop_process(p)
        return {"cameras": cameras, **result}


def main() -> int:
    parser = base_parser(__doc__, warmup_s=30.0)
    parser.add_argument("--cameras", type=int, nargs="+", default=[0, 4, 16])
    args = parser.parse_args()
    runs = []
    for n in args.cameras:
        gtv = run_gtvision(n, args.warmup, args.window)
        peer = run_ffmpeg(n, min(args.warmup, 10), args.window)
        hosts_cpu = gtv["by_group"].get("camera_hosts", {}).get("cpu_percent", 0.0)
        runs.append({
            "cameras": n, "gtvision": gtv, "ffmpeg_copy_segment": peer,
            "camera_hosts_cpu_per_camera": round(hosts_cpu / n, 3) if n else None,
            "ffmpeg_cpu_per_camera": round(peer["cpu_percent"] / n, 3) if n else None,
            "cpu_ratio_camera_hosts_vs_ffmpeg": round(hosts_cpu / peer["cpu_percent"], 2) if n and peer["cpu_percent"] else None,
        })
    publish("footprint", {"window_s": args.window, "runs": runs}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
