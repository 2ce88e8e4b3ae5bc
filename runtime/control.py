"""``gtvision status`` and ``gtvision stop``: for people who run GT-Vision in the background or under systemd.

Both find the instance through its var dir's lock (runtime/instance.py).
``status`` asks the API whether it is healthy, PostgreSQL how the cameras are
doing and when retention last completed, and the spool disk what waits to be
stored. ``stop`` sends the instance SIGTERM — the same orderly stop as Ctrl-C:
cameras store what they recorded, then Ray and the embedded PostgreSQL stop —
and waits until the lock is released.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runtime.instance import Instance, running
from storage import purges, tenant_health
from storage.db import create_pool
from storage.spool import backlog

NOT_RUNNING = 3  # the LSB exit status of `status` for a service that is not running
_HEALTH_TIMEOUT_S = 5.0
_DB_TIMEOUT_S = 10.0


def instance_status(var_dir: Path, database_url: str | None) -> dict[str, Any] | None:
    """What ``status`` reports, or None when nothing runs on ``var_dir``."""
    instance = running(var_dir)
    if instance is None:
        return None
    chunks, spooled = backlog(var_dir / "spool")
    report: dict[str, Any] = {
        "running": True, "pid": instance.pid, "var_dir": instance.var_dir, "api_url": instance.api_url,
        "started_at": _instant(instance.started_at), "health": _health(instance.api_url),
        "spool": {"chunks": chunks, "bytes": spooled},
    }
    dsn = database_url or instance.database_url
    if dsn:
        try:
            report.update(asyncio.run(asyncio.wait_for(_from_database(dsn), _DB_TIMEOUT_S)))
        except Exception as exc:  # status must answer even when PostgreSQL does not
            report["database_error"] = f"{type(exc).__name__}: {exc}"
    return report


def _instant(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds")


def _health(api_url: str) -> str:
    # Only a status word is read from our own instance, so its certificate (often self-signed) is not checked.
    context = ssl._create_unverified_context() if api_url.startswith("https:") else None
    try:
        with urllib.request.urlopen(f"{api_url}/api/v1/health", timeout=_HEALTH_TIMEOUT_S, context=context) as answer:
            return str(json.load(answer).get("status", "unknown"))
    except Exception as exc:  # starting, stopping, or wedged: say so rather than fail
        return f"unreachable ({type(exc).__name__})"


async def _from_database(dsn: str) -> dict[str, Any]:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        states = await tenant_health.states(pool)
        finished, running_since = await purges.last_finished(pool)
    finally:
        await pool.close()
    return {"cameras": states,
            "retention": {"last_pass_finished_at": finished.isoformat(timespec="seconds") if finished else None,
                          "running_since": running_since.isoformat(timespec="seconds") if running_since else None}}


def describe(report: dict[str, Any]) -> str:
    """The status for a person: a few lines."""
    lines = [f"GT-Vision is running on {report['var_dir']} (pid {report['pid']}, since {report['started_at']})",
             f"  API:        {report['api_url']}/api/v1 (health: {report['health']})"]
    if "cameras" in report:
        states = report["cameras"]
        lines.append(f"  Cameras:    {states.get('streaming', 0)} recording, "
                     f"{sum(states.get(s, 0) for s in ('offline', 'stalled', 'reconnecting'))} offline, "
                     f"{states.get('error', 0)} error, {sum(states.values())} enabled")
        lines.append(f"  Retention:  last pass finished {report['retention']['last_pass_finished_at'] or 'never'}")
    elif "database_error" in report:
        lines.append(f"  Database:   {report['database_error']}")
    else:
        lines.append("  Cameras:    unknown (pass --database-url for an external PostgreSQL)")
    spool = report["spool"]
    lines.append(f"  Spool:      {spool['chunks']} chunks waiting to be stored ({spool['bytes'] / 1024**2:.1f} MiB)")
    return "\n".join(lines)


def stop_instance(var_dir: Path, timeout_s: float) -> tuple[Instance | None, bool]:
    """SIGTERM the instance and wait for its lock to go: (the instance or None, whether it stopped in time)."""
    instance = running(var_dir)
    if instance is None:
        return None, True
    os.kill(instance.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if running(var_dir) is None:
            return instance, True
        time.sleep(0.2)
    return instance, False
