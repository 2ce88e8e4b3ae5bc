"""The run command as people use it: ``gtvision up`` on a data directory, ``status``, ``stop``, a crash, a busy
port, a second instance — each a real subprocess with the embedded PostgreSQL, Ray and the demo camera."""

from __future__ import annotations

import itertools
import json
import re
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.gtvision_process import ADMIN_PASSWORD, Instance, gtvision, running_instance
from tests.support.ports import free_port
from tests.support.secret_scan import assert_no_secrets, log_file_texts
from tests.support.system import wait_for

pytestmark = pytest.mark.integration


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _seconds(chunk: dict[str, Any]) -> float:
    return (_at(chunk["end"]) - _at(chunk["start"])).total_seconds()


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(command)
    return found


READY_LINE = "Ctrl-C (or: gtvision stop"
# What the terminal must not show: log lines of PostgreSQL, Ray and Serve (their levels, names and banners).
THIRD_PARTY = re.compile(r"\b(INFO|DEBUG|WARNING)\b|pgserver|initdb|pg_ctl|raylet|ProxyActor|ServeController"
                         r"|Started a local Ray|Deploying|EndpointInfo|RuntimeDirWarning")


def _assert_start_up_reads_well(instance: Instance) -> None:
    """A short summary with every URL a person needs and nothing else; the rest went to the JSON log file."""
    lines = instance.output(everything=True).splitlines()
    ready = next(i for i, line in enumerate(lines) if line.startswith(READY_LINE))
    shown = lines[:ready + 1]
    assert len(shown) <= 15, shown
    text = "\n".join(shown)
    url = f"http://127.0.0.1:{instance.port}"
    log_file = instance.var_dir / "logs" / "gtvision.jsonl"
    for expected in (f"{url}/api/v1", f"{url}/docs", f"{url}/api/v1/metrics", str(instance.var_dir), str(log_file),
                     "Demo city:", "Admin:"):
        assert expected in text, (expected, shown)
    assert not [line for line in shown if THIRD_PARTY.search(line)], shown
    entries = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    loggers = {entry["logger"] for entry in entries}
    assert {"pgserver", "ray.serve"} <= loggers, f"third-party lines go to the file: {loggers}"
    secrets = [ADMIN_PASSWORD, (instance.var_dir / "secret").read_text().strip()]
    assert_no_secrets(log_file_texts(instance.var_dir / "logs"), secrets)


def test_a_second_instance_refuses_at_once_the_first_keeps_recording_and_status_and_stop_work(
    tmp_path: Path,
) -> None:
    var_dir = tmp_path / "var"
    with running_instance(var_dir, free_port()) as first:
        _assert_start_up_reads_well(first)
        camera = first.camera()
        wait_for(lambda: len(first.chunks(camera)) >= 2, 90)

        asked = time.monotonic()
        second = gtvision("up", "--var-dir", str(var_dir), "--port", str(free_port()), "--no-dashboard")
        answered_s = time.monotonic() - asked
        assert second.returncode != 0 and answered_s < 2.0, (answered_s, second.stderr)
        (line,) = second.stderr.strip().splitlines()
        assert "already running" in line, line
        assert f"pid {first.process.pid}" in line and f"http://127.0.0.1:{first.port}" in line, line

        seen = len(first.chunks(camera))
        wait_for(lambda: len(first.chunks(camera)) >= seen + 3, 60)
        chunks = first.chunks(camera)
        gaps = [(_at(b["start"]) - _at(a["end"])).total_seconds() for a, b in itertools.pairwise(chunks)]
        assert gaps == [0.0] * (len(chunks) - 1), "one run: the refused start cut nothing"
        assert all(_seconds(c) >= 3.0 for c in chunks), [_seconds(c) for c in chunks]

        status = gtvision("status", "--var-dir", str(var_dir), "--json")
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert report["pid"] == first.process.pid and report["api_url"] == f"http://127.0.0.1:{first.port}"
        assert report["health"] == "ok" and report["cameras"] == {"streaming": 1}
        assert report["retention"]["last_pass_finished_at"] is not None
        assert "1 recording" in gtvision("status", "--var-dir", str(var_dir)).stdout

        stopped = gtvision("stop", "--var-dir", str(var_dir), timeout_s=200)
        assert stopped.returncode == 0 and "stopped" in stopped.stdout, stopped.stderr
        assert first.process.wait(timeout=30) == 0, "the same orderly stop as Ctrl-C"
        assert gtvision("status", "--var-dir", str(var_dir)).returncode == 3, "not running"
    assert not _processes_mentioning(str(var_dir)), "stop leaves nothing running (the embedded PostgreSQL too)"


def test_a_busy_port_is_one_line_with_the_fix_and_nothing_is_left_running(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        refused = gtvision("up", "--var-dir", str(var_dir), "--port", str(port), "--no-dashboard")
    assert refused.returncode == 2, refused
    (line,) = refused.stderr.strip().splitlines()
    assert f"port {port}" in line and "already in use" in line and "--port" in line, line
    assert not (var_dir / "postgres").exists(), "nothing was started"
    assert not _processes_mentioning(str(var_dir))
    assert gtvision("status", "--var-dir", str(var_dir)).returncode == 3, "and nothing holds the directory"


def test_a_killed_instance_restarts_on_its_directory_and_serves_the_chunk_it_was_recording(tmp_path: Path) -> None:
    var_dir, port = tmp_path / "var", free_port()
    crashed = Instance(var_dir, port, chunk_seconds=60)
    try:
        crashed.wait_healthy()
        camera = crashed.camera()
        spool = var_dir / "spool" / camera
        wait_for(lambda: [p for p in spool.glob("*.part") if p.stat().st_size > 100_000], 60)
        time.sleep(3)
        crashed.kill()  # kill -9: the open chunk stays in the spool, the embedded PostgreSQL keeps running
        killed_at = datetime.now(UTC)
    finally:
        crashed.api.close()
    with running_instance(var_dir, port, chunk_seconds=60) as restarted:
        recovered = wait_for(lambda: [c for c in restarted.chunks(camera) if _at(c["start"]) < killed_at], 60)
        (chunk,) = recovered
        assert 2.0 <= _seconds(chunk) <= 60.0
        data = httpx.get(chunk["url"], timeout=10)
        assert data.status_code == 200 and len(data.content) == chunk["bytes"], "the recovered chunk is served"
        assert data.content[4:8] == b"ftyp"
    crashed.close()
    assert not _processes_mentioning(str(var_dir)), "the orderly stop after a crash stops the embedded PostgreSQL"
