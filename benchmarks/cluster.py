"""A node lost under recording, on a Ray cluster of three nodes on this machine: what it costs, measured.

Runs tests/support/node_loss_run.py (a head and two workers with ``camera_slots`` and their own spool
directories, ray.cluster_utils; four cameras, each its own 10 fps RTSP test stream, 2 s chunks) against this machine's
PostgreSQL, moto's S3 server and Redis, and records the figures of its three steps:

- join: the cameras created after a node joins go to it;
- loss: a worker killed mid-chunk: seconds until its cameras are placed again (``replace_s``) and record again
  (``record_again_s``), the index gap of each affected camera, gaps of the cameras on the other node
  (``unaffected_gaps``), whether the API answered throughout;
- return: the worker back with its spool directory: chunks recovered and stored by the sweep.

Peer in the same run: the chunk length (2 s), the smallest gap a re-placement could show (``gap_vs_chunk``).

    .venv/bin/python -m benchmarks.cluster --out benchmarks/results/cluster.json

The API at 100 users (``api_p99_ms``, ``serve_vs_uvicorn``, ``api``) is measured by benchmarks/api_load.py, which
merges its figures into the same file; this run keeps them. Not measured yet (issue 14 part 4): sustained live
video at 100 viewers (``live_p95_ms_sustained``), reported as null.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from benchmarks.report import base_parser, publish
from tests.support.camera_cluster import CLUSTER_ENV
from tests.support.databases import create_database, drop_database
from tests.support.ports import free_port
from tests.support.rtsp_camera import RtspTestCamera
from tests.support.s3_server import S3TestServer

_RUN_TIMEOUT_S = 600


def run_scenario(database_url: str, store_url: str, streams: list[str], work: Path) -> dict[str, Any]:
    run = subprocess.Popen(
        [sys.executable, "-m", "tests.support.node_loss_run", "--database-url", database_url, "--store-url",
         store_url, *(a for url in streams for a in ("--camera-url", url)), "--work", str(work)],
        cwd=Path(__file__).resolve().parents[1], env={**os.environ, **CLUSTER_ENV},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = run.communicate(timeout=_RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)  # its Ray nodes with it
        run.communicate()
        raise
    if run.returncode != 0:
        raise RuntimeError(f"the cluster run failed:\n{err[-4000:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = base_parser(__doc__, warmup_s=0.0)
    args = parser.parse_args()
    database_url = asyncio.run(create_database())
    s3 = S3TestServer()
    camera = RtspTestCamera(free_port(), [f"n{i}" for i in range(1, 5)], fps=10, gop=10)  # a stream per camera
    camera.start()
    try:
        with tempfile.TemporaryDirectory(prefix="gtv-cluster-") as work:
            result = run_scenario(database_url, s3.url(f"cluster-{uuid.uuid4().hex[:8]}"),
                                  [camera.url(f"n{i}") for i in range(1, 5)], Path(work))
    finally:
        camera.stop()
        s3.stop()
        asyncio.run(drop_database(database_url))
    loss, back = result["loss"], result["return"]
    worst_gap, chunk_s = max(loss["gap_s_per_affected_camera"], default=0.0), result["chunk_s"]
    publish("cluster", {
        **other_runs(args.out),
        "nodes": {"head": 1, "workers": 2, "camera_slots_per_worker": 4}, "cameras": 4, "chunk_s": chunk_s,
        "new_cameras_on_joined_node": result["join"]["new_on_w2"],
        "replace_s": loss["replace_s"], "record_again_s": loss["record_again_s"],
        "gap_s_per_affected_camera": loss["gap_s_per_affected_camera"], "gap_vs_chunk": round(worst_gap / chunk_s, 2),
        "cameras_affected": loss["cameras_on_lost_node"], "cameras_unaffected": loss["cameras_unaffected"],
        "unaffected_gaps": loss["unaffected_gaps"], "unaffected_gap_details": loss["unaffected_gap_details"],
        "api_answers_during_loss": loss["api_answers"], "api_failures_during_loss": loss["api_failures"],
        "api_failure_details": loss["api_failure_details"],
        "open_chunks_at_loss": loss["open_chunks_at_loss"],
        "open_chunks_at_loss_indexed": back["open_chunks_at_loss_indexed"],
        "spool_files_while_lost": back["spooled_files_while_lost"], "spool_recovered_chunks": back["sweep"]["chunks"],
        "spool_recovered_bytes": back["sweep"]["bytes"],
    }, args.out)


def other_runs(out: Path | None) -> dict[str, Any]:
    """The figures already in ``out`` that other runs merged in (benchmarks/api_load.py's API load, the sustained
    live run of benchmarks/watch.py), kept, or nulls."""
    before = json.loads(out.read_text()) if out and out.exists() else {}
    return {key: before.get(key) for key in ("api_p99_ms", "serve_vs_uvicorn", "api", "live_p95_ms_sustained",
                                             "live_p95_growth", "live")}


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop() the camera and S3 server on the way out
    main()
