"""The guards of the run command: one holder per lock file, and the checks that run before anything starts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from runtime.cli import main
from runtime.instance import AlreadyRunning, claim, crashed_predecessor, running, stopped_in_order
from runtime.preflight import cluster_problem, port_problem, var_dir_problem
from storage.file_lock import FileLock


def test_a_lock_has_one_holder_whose_note_anyone_can_read(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "x.lock"), FileLock(tmp_path / "x.lock")
    assert first.holder() is None
    assert first.acquire({"pid": 1}) and not second.acquire({"pid": 2}), "one holder, even within one process"
    assert second.holder() == {"pid": 1}
    first.rewrite({"pid": 1, "api_url": "http://127.0.0.1:1"})
    assert second.holder() == {"pid": 1, "api_url": "http://127.0.0.1:1"}
    first.release()
    assert second.holder() is None and second.acquire({"pid": 2})
    second.release()


def test_a_second_instance_on_a_var_dir_is_refused_naming_the_first(tmp_path: Path) -> None:
    lock = claim(tmp_path, "http://127.0.0.1:8000")
    try:
        running_now = running(tmp_path)
        assert running_now is not None and running_now.api_url == "http://127.0.0.1:8000"
        try:
            claim(tmp_path, "http://127.0.0.1:9000")
            raise AssertionError("a second claim must be refused")
        except AlreadyRunning as refused:
            assert "already running" in str(refused) and "http://127.0.0.1:8000" in str(refused)
            assert f"pid {running_now.pid}" in str(refused)
    finally:
        lock.release()
    assert running(tmp_path) is None


def test_a_busy_port_and_an_unusable_var_dir_are_one_line_each_with_the_fix(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        problem = port_problem("127.0.0.1", port, "the API", "choose another with --port")
    assert problem is not None and "\n" not in problem
    assert f"port {port}" in problem and "already in use" in problem and "--port" in problem
    assert port_problem("127.0.0.1", port, "the API", "choose another with --port") is None, "free again"
    assert var_dir_problem(tmp_path / "new") is None
    assert var_dir_problem(tmp_path, min_free_bytes=2**62) is not None
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    problem = var_dir_problem(blocked / "var")
    assert problem is not None and "--var-dir" in problem


def test_the_next_start_knows_whether_the_instance_before_stopped_in_order(tmp_path: Path) -> None:
    crashed = claim(tmp_path, "http://127.0.0.1:8000")
    crashed.release()  # what a crash leaves: the note is still there
    after_crash = claim(tmp_path, "http://127.0.0.1:8000")
    before = crashed_predecessor(after_crash)
    assert before is not None and before.api_url == "http://127.0.0.1:8000"
    stopped_in_order(after_crash)
    after_crash.release()
    clean = claim(tmp_path, "http://127.0.0.1:8000")
    assert crashed_predecessor(clean) is None
    clean.release()


def test_no_ray_address_keeps_the_embedded_defaults() -> None:
    assert cluster_problem(None, None, None, None) is None
    assert cluster_problem("", None, "file:///var/objects", "ray://") is None


def test_a_cluster_takes_the_shared_parts() -> None:
    assert cluster_problem("auto", "postgresql://gtv@db/gtv", "s3://k:s@minio:9000/gtv", "redis://redis:6379/0") is None
    assert cluster_problem("ray://head:10001", "postgresql://db/gtv", "s3://k:s@m:9000/b", "rediss://r:6380/0") is None


def test_a_cluster_refuses_each_part_that_lives_on_one_machine() -> None:
    problem = cluster_problem("auto", None, "file:///srv/objects", "ray://")
    assert problem is not None and "\n" not in problem
    assert "--address auto" in problem and "--database-url" in problem and "--object-store s3://" in problem
    assert "--bus-url redis://" in problem
    only_bus = cluster_problem("auto", "postgresql://db/gtv", "s3://k:s@m:9000/b", None)
    assert only_bus is not None and "--bus-url" in only_bus and "--database-url" not in only_bus
    assert "--object-store" not in only_bus
    unix_socket = cluster_problem("auto", "postgresql://db/gtv", "s3://k:s@m:9000/b", "unix:///run/redis.sock")
    assert unix_socket is not None and "Redis bus" in unix_socket


def test_up_on_a_cluster_with_a_directory_store_is_refused_before_anything_starts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GTVISION_OBJECT_STORE", raising=False)
    monkeypatch.setenv("GTVISION_RAY_ADDRESS", "auto")
    var_dir = tmp_path / "var"
    code = main(["up", "--var-dir", str(var_dir), "--database-url", "postgresql://127.0.0.1/x",
                 "--bus-url", "redis://127.0.0.1:6379/0", "--object-store", (tmp_path / "objects").as_uri()])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "S3 object store" in err[0], err
    assert not var_dir.exists(), "nothing was created: the refusal came first"


def test_up_with_a_host_name_instead_of_an_address_is_refused_before_anything_starts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    var_dir = tmp_path / "var"
    code = main(["up", "--var-dir", str(var_dir), "--host", "localhost"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--host takes an IP address" in err[0] and "'localhost'" in err[0], err
    assert not var_dir.exists(), "nothing was created: the refusal came first"
