"""The whole system on Ray for end-to-end tests: Serve API, Fleet, camera hosts, clip exporter.

One runtime per object store backend (S3 protocol with Redis streams; a local
directory with the in-Ray bus), shared by every end-to-end module.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import ray

from domain.settings import Settings
from tests.support.databases import create_database, drop_database
from tests.support.ports import free_port
from tests.support.s3_server import S3TestServer
from tests.support.system import (
    METRICS_PORT,
    NAMESPACE,
    REDIS_URL,
    System,
    drop_redis_keys,
    start_system,
)


@pytest.fixture(scope="session")
def ray_local() -> Iterator[None]:
    ray.init(address="local", namespace=NAMESPACE, include_dashboard=False, _node_ip_address="127.0.0.1",
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
