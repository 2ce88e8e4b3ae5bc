"""Shared fixtures: real PostgreSQL, the S3-protocol server, the RTSP test camera, Ray, the whole system.

Everything listens on 127.0.0.1, is started by the suite and stopped by it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import ray

from domain.settings import Settings
from runtime.free_port import held_port
from runtime.local_ray import init_local_ray, keep_ray_on_loopback
from storage.db import create_pool, migrate
from tests.support.databases import create_database, drop_database
from tests.support.ports import free_port
from tests.support.rtsp_camera import CAMERA_SERVERS, RtspFarm, RtspTestCamera
from tests.support.s3_server import S3TestServer
from tests.support.system import (
    METRICS_PORT,
    NAMESPACE,
    REDIS_URL,
    System,
    drop_redis_keys,
    start_system,
)

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
keep_ray_on_loopback()  # every Ray the tests start, in this process or a child, on 127.0.0.1 only


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated database for this run; dropped at the end."""
    dsn = asyncio.run(create_database())

    async def _migrate() -> None:
        pool = await create_pool(dsn, max_size=1)
        try:
            await migrate(pool)
        finally:
            await pool.close()

    asyncio.run(_migrate())
    yield dsn
    asyncio.run(drop_database(dsn))


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening for the whole test: connecting is refused, and no server can take it.

    Taken from 10000–19999: below the kernel's ephemeral range, where Ray's workers and agents and Serve get their
    ports (once an RTSP client reached an HTTP server on a port picked as "closed": a 404 read as not_found, a 401
    as unauthorized), and below the range free_port() picks from (runtime/free_port.py).
    """
    with held_port(10_000, 19_999) as port:
        yield port


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3TestServer]:
    server = S3TestServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gstreamer_camera() -> Iterator[RtspTestCamera]:
    camera = RtspTestCamera(free_port(), ["cam", "cam-audio:audio", "cam-restart", "cam-sub:sub"])
    camera.start()
    yield camera
    camera.stop()


@pytest.fixture
def rtsp_camera(gstreamer_camera: RtspTestCamera) -> RtspTestCamera:
    """Live H.264 at /cam (1 s GOP), H.264+AAC at /cam-audio and its half-size sub-stream at /cam-sub, on 127.0.0.1.

    One server for the session; if it has died (GStreamer's RTSP server once exited mid-suite, and every later
    test of the session then failed on it), it is started again on the same URLs, with a warning that says so."""
    if (said := gstreamer_camera.restarted_if_dead()) is not None:
        warnings.warn(f"the session's GStreamer test camera had exited ({said}); started again", stacklevel=1)
    return gstreamer_camera


@pytest.fixture(scope="session")
def rtsp_farm() -> Iterator[RtspFarm]:
    """The lean farm server (tests/support/rtsp_farm.py): H.264 at /cam (1 s GOP) on 127.0.0.1."""
    farm = RtspFarm(free_port(), ["cam"])
    farm.start()
    yield farm
    farm.stop()


@pytest.fixture(params=sorted(CAMERA_SERVERS))
def camera_server(request: pytest.FixtureRequest) -> type[RtspTestCamera | RtspFarm]:
    """Each RTSP test server in turn, for tests that start cameras of their own: both must behave like one."""
    return CAMERA_SERVERS[request.param]  # type: ignore[return-value]


@pytest.fixture(params=sorted(CAMERA_SERVERS))
def shared_camera(request: pytest.FixtureRequest) -> RtspTestCamera | RtspFarm:
    """The session's GStreamer camera or farm, each in turn; both serve H.264 at /cam."""
    return request.getfixturevalue("rtsp_camera" if request.param == "gstreamer" else "rtsp_farm")  # type: ignore[no-any-return]


@pytest.fixture(params=["dir", "s3"])
def object_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both object store backends, so every test using this runs on each."""
    if request.param == "dir":
        return (tmp_path / "objects").as_uri()
    server: S3TestServer = request.getfixturevalue("s3_server")
    return server.url(f"test-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def ray_local() -> Iterator[None]:
    init_local_ray(namespace=NAMESPACE, include_dashboard=False,
                   log_to_driver=False, _metrics_export_port=METRICS_PORT)
    yield
    ray.shutdown()


@pytest.fixture(scope="session", params=["s3", "dir"])
def system(request: pytest.FixtureRequest, ray_local: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    redis_prefix = f"gtv-test-{uuid.uuid4().hex[:8]}:"
    if request.param == "s3":  # S3 objects with Redis streams
        server: S3TestServer = request.getfixturevalue("s3_server")
        store_url = server.url(f"e2e-{uuid.uuid4().hex[:8]}")
        bus_url = f"{REDIS_URL}?prefix={redis_prefix}"
    else:  # the embedded defaults: a directory and the in-Ray bus
        store_url = (tmp_path_factory.mktemp("objects")).as_uri()
        bus_url = "ray://"
    database_url = asyncio.run(create_database())
    port = free_port()
    settings = Settings(
        database_url=database_url, object_store_url=store_url, public_url=f"http://127.0.0.1:{port}",
        secret=uuid.uuid4().hex, namespace=NAMESPACE, bus_url=bus_url, api_port=port, chunk_max_s=3,
        thumbnail_every_s=0,  # every 3 s chunk: the thumbnail tests look at a few chunks
        reconcile_interval_s=1, source_timeout_s=2, spool_dir=str(tmp_path_factory.mktemp("spool")),
        camera_networks=("127.0.0.0/8",),  # the test cameras are on loopback, which is refused by default
        # Every client here is 127.0.0.1 and the fuzzing sends hundreds of failed logins: the failure limits
        # (tested on their own in test_login_guard.py) would lock the suite's own logins out for a minute.
        login_failures_per_minute=100_000,
    )
    runtime, client = start_system(settings)
    try:
        yield System(settings, client)
    finally:
        client.close()
        runtime.stop()
        asyncio.run(drop_database(database_url))
        asyncio.run(drop_redis_keys(redis_prefix))
