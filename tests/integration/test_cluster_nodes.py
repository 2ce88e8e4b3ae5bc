"""GT-Vision on a Ray cluster of three nodes on this machine (ray.cluster_utils): a node joins and takes the new
cameras; a node is lost mid-chunk and its cameras record again elsewhere within 30 s while the others record
without a gap and the API answers; the node comes back with its disk and what it had spooled is stored.

The scenario runs in a process of its own (tests/support/node_loss_run.py: one Ray per process, and this session
has its local one) against this session's PostgreSQL database and S3 server, and an RTSP test camera with a stream per camera.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.camera_cluster import CLUSTER_ENV
from tests.support.databases import create_database, drop_database
from tests.support.ports import free_port
from tests.support.rtsp_camera import RtspTestCamera
from tests.support.s3_server import S3TestServer

_RUN_TIMEOUT_S = 480

pytestmark = [pytest.mark.integration, pytest.mark.timeout(_RUN_TIMEOUT_S + 120)]


@pytest.fixture(scope="module")
def streams() -> Iterator[list[str]]:
    """A stream per camera, 10 fps: a new client of a shared GStreamer stream makes its other clients skip a few
    frames, which would read as gaps of the cameras that must have none."""
    camera = RtspTestCamera(free_port(), [f"n{i}" for i in range(1, 5)], fps=10, gop=10)
    camera.start()
    yield [camera.url(f"n{i}") for i in range(1, 5)]
    camera.stop()


@pytest.fixture(scope="module")
def cluster_run(s3_server: S3TestServer, streams: list[str],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    # A database of its own: its admin is this run's, untouched by the login and session tests of the suite.
    database_url = asyncio.run(create_database())
    try:
        yield _run_cluster(database_url, s3_server, streams, tmp_path_factory.mktemp("cluster"))
    finally:
        asyncio.run(drop_database(database_url))


def _run_cluster(database_url: str, s3_server: S3TestServer, streams: list[str], work: Path) -> dict[str, Any]:
    # its own process group: a run cut short takes its Ray nodes with it
    run = subprocess.Popen(
        [sys.executable, "-m", "tests.support.node_loss_run", "--database-url", database_url,
         "--store-url", s3_server.url(f"cluster-{uuid.uuid4().hex[:8]}"), *(a for url in streams for a in ("--camera-url", url)),
         "--work", str(work)],
        cwd=Path(__file__).resolve().parents[2], env={**os.environ, **CLUSTER_ENV},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = run.communicate(timeout=_RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        out, err = run.communicate()
        pytest.fail(f"the cluster run took over {_RUN_TIMEOUT_S} s:\n{err[-6000:]}")
    assert run.returncode == 0, err[-6000:]
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def test_a_node_that_joins_takes_the_new_cameras(cluster_run: dict[str, Any]) -> None:
    join = cluster_run["join"]
    assert join["first_on_w1"] == 2, join
    assert join["new_on_w2"] == join["new_cameras"] == 2, join


def test_a_lost_nodes_cameras_record_again_elsewhere_and_its_spool_is_stored_when_it_returns(
        cluster_run: dict[str, Any]) -> None:
    loss, back = cluster_run["loss"], cluster_run["return"]
    assert loss["cameras_on_lost_node"] >= 1 and loss["cameras_unaffected"] >= 1, loss
    assert loss["open_chunks_at_loss"] >= loss["cameras_on_lost_node"], "the node was lost mid-chunk"
    assert loss["replace_s"] <= 30 and loss["record_again_s"] <= 30, loss
    assert all(gap <= 30 for gap in loss["gap_s_per_affected_camera"]), loss
    assert loss["unaffected_gaps"] == 0, loss
    assert loss["api_failures"] == 0 and loss["api_answers"] > 0, loss
    assert back["open_chunks_at_loss_indexed"] == loss["open_chunks_at_loss"], "nothing spooled on w1 was lost"
    assert back["sweep"]["chunks"] >= back["spooled_files_while_lost"], back
    assert back["spool_files_left"] == 0, back
