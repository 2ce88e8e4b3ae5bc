"""Bring the runtime up on Ray and take it down: used by ``gtvision up`` and the tests.

Order: migrate the database → start the Fleet (which starts camera hosts), the
clip exporter, the retention actor and the LPR writer → deploy the API on Serve.
Stopping reverses it, and every camera stores what it recorded before its host goes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import ray
from ray import serve

from actor_client.names import CLIP_EXPORTER_NAME, FLEET_NAME, LPR_WRITER_NAME, RETENTION_NAME, host_slot
from actors.clip_exporter import ClipExporter
from actors.fleet import Fleet
from actors.host_actor import ON_HEAD, named_hosts
from actors.lpr_writer import LprWriter
from actors.retention_actor import RetentionActor
from domain.api_replicas import PROXY_LOCATION, api_replica_options
from domain.sealing import sealer_for
from domain.settings import Settings
from serve.app import Api
from storage.bus import BUS_ACTOR_NAME, MemoryStreams
from storage.db import create_pool, migrate
from storage.secrets_at_rest import seal_at_rest

log = logging.getLogger(__name__)

SERVE_APP = "gtvision"


async def migrate_database(settings: Settings) -> list[str]:
    """Apply the SQL migrations, then seal camera secrets still in the clear (migration 0009 cannot: the key is not
    in the database) or sealed with a previous key."""
    pool = await create_pool(settings.database_url, max_size=1)
    try:
        applied = await migrate(pool)
        report = await seal_at_rest(pool, sealer_for(settings))
        if report.sealed or report.resealed:
            log.info("camera secrets sealed at rest: %d in the clear before, %d under a previous key",
                     report.sealed, report.resealed)
        return applied
    finally:
        await pool.close()


@dataclass
class Runtime:
    """The running Fleet and API of one deployment."""

    settings: Settings
    fleet: Any
    exporter: Any
    retention: Any
    lpr_writer: Any
    bus: Any | None

    def stop(self) -> None:
        try:
            serve.delete(SERVE_APP)
            serve.shutdown()
        except Exception as exc:  # stopping must go on to the cameras whatever Serve says
            log.warning("serve shutdown: %s", exc)
        # Whatever these were doing is picked up at the next start: a requeued export, a pass finished by the
        # next one, reads the writer had not confirmed.
        for name, service in (("clip exporter", self.exporter), ("retention", self.retention),
                              ("LPR writer", self.lpr_writer)):
            try:
                ray.get(service.stop.remote(), timeout=30)
            except Exception as exc:
                log.warning("%s stop: %s", name, exc)
            ray.kill(service, no_restart=True)
        try:
            ray.get(self.fleet.stop.remote(), timeout=90)
        except Exception as exc:  # what a camera could not store in time is recovered from its spool at the next start
            log.warning("fleet stop: %s", exc)
        finally:
            ray.kill(self.fleet, no_restart=True)
            # Camera hosts outlive the Fleet (detached): any it could not stop goes now, not with the cluster.
            for handle in named_hosts(self.settings, host_slot).values():
                ray.kill(handle, no_restart=True)
            if self.bus is not None:
                ray.kill(self.bus, no_restart=True)


def _service(cls: type, name: str, settings: Settings) -> Any:
    """A named platform actor that Ray restarts after a crash (the Fleet then pokes its ``start()``)."""
    return (
        cast(Any, ray.remote(cls))
        .options(name=name, namespace=settings.namespace, num_cpus=0, max_restarts=-1, resources=ON_HEAD)
        .remote(settings)
    )


def http_options(settings: Settings) -> dict[str, Any]:
    """Serve's HTTP proxy: the API's address, and TLS (HTTPS, WSS) when a certificate and key are given."""
    options: dict[str, Any] = {"host": settings.api_host, "port": settings.api_port}
    if settings.tls_cert_file and settings.tls_key_file:
        options.update(ssl_certfile=settings.tls_cert_file, ssl_keyfile=settings.tls_key_file)
    return options


def start_runtime(settings: Settings) -> Runtime:
    """Start the Fleet and the API on the already initialised Ray."""
    asyncio.run(migrate_database(settings))
    bus = None
    if settings.bus_url.startswith("ray://"):
        bus = (
            cast(Any, ray.remote(MemoryStreams))
            .options(name=BUS_ACTOR_NAME, namespace=settings.namespace, num_cpus=0, max_restarts=-1,
                     resources=ON_HEAD)
            .remote()
        )
    fleet = (
        cast(Any, ray.remote(Fleet))  # restarted after a crash, it takes over the camera hosts still running
        .options(name=FLEET_NAME, namespace=settings.namespace, num_cpus=0, max_concurrency=100, max_restarts=-1,
                 resources=ON_HEAD)
        .remote(settings, keep_started=(CLIP_EXPORTER_NAME, RETENTION_NAME, LPR_WRITER_NAME))
    )
    exporter = _service(ClipExporter, CLIP_EXPORTER_NAME, settings)
    retention = _service(RetentionActor, RETENTION_NAME, settings)
    lpr_writer = _service(LprWriter, LPR_WRITER_NAME, settings)
    ray.get([fleet.start.remote(), exporter.start.remote(), retention.start.remote(), lpr_writer.start.remote()],
            timeout=120)
    serve.start(http_options=http_options(settings), proxy_location=PROXY_LOCATION)
    # Every replica of a node writes its metrics into one directory of that node, so any replica answers the
    # node's scrape with all of them (serve/metrics.py).
    metrics_dir = Path(settings.spool_dir).absolute().parent / "metrics" / "api"
    # A proxy on every node; one replica on the head, more spread over the nodes (domain/api_replicas.py).
    options = api_replica_options(settings.api_replicas, settings.api_max_replicas, ON_HEAD)
    options["ray_actor_options"]["runtime_env"] = {"env_vars": {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}}
    api = cast(Any, Api).options(**options)
    serve.run(api.bind(settings), name=SERVE_APP, route_prefix="/", blocking=False)
    return Runtime(settings, fleet, exporter, retention, lpr_writer, bus)
