"""Camera rows. Every read takes the tenant id (tenant isolation at the data layer).

The RTSP password is written sealed (domain/sealing.py) and read back sealed: a ``Camera`` carries it opaque,
and only what opens the stream opens it (``Camera.spec``, the edge provisioning).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg

from domain.camera import Camera
from domain.sealing import Sealer, camera_password_context
from domain.stream_url import StreamUrl

_COLUMNS = (
    "id, tenant_id, name, vendor, rtsp_url, rtsp_username, rtsp_password_sealed, enabled,"
    " latitude, longitude, created_at, updated_at, substream_url"
)


def _camera(row: asyncpg.Record) -> Camera:
    return Camera(
        id=row["id"], tenant_id=row["tenant_id"], name=row["name"], vendor=row["vendor"],
        stream=StreamUrl(row["rtsp_url"], row["rtsp_username"]), sealed_password=row["rtsp_password_sealed"],
        enabled=row["enabled"], latitude=row["latitude"], longitude=row["longitude"],
        created_at=row["created_at"], updated_at=row["updated_at"],
        recording_paused=row.get("recording_paused"),
        substream=StreamUrl(row["substream_url"]) if row["substream_url"] is not None else None,
    )


def _sealed_password(camera_id: UUID, stream: StreamUrl, sealer: Sealer | None) -> str | None:
    if stream.password is None:
        return None
    if sealer is None:
        raise ValueError("a camera password is only stored sealed: pass the deployment's sealer")
    return sealer.seal(stream.password, camera_password_context(camera_id))


async def create(
    pool: asyncpg.Pool | asyncpg.Connection, *, tenant_id: UUID, name: str, vendor: str, stream: StreamUrl,
    enabled: bool = True, latitude: float | None = None, longitude: float | None = None,
    sealer: Sealer | None = None, substream: StreamUrl | None = None,
) -> Camera:
    """A new camera; a stream with a password needs ``sealer`` (the password is stored sealed only). ``substream``
    is stored as its public URL only: it opens with the main stream's login."""
    camera_id = uuid4()
    row = await pool.fetchrow(
        "INSERT INTO cameras (id, tenant_id, name, vendor, rtsp_url, rtsp_username, rtsp_password_sealed,"
        f" enabled, latitude, longitude, substream_url) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
        f" RETURNING {_COLUMNS}",
        camera_id, tenant_id, name, vendor, stream.public_url, stream.username,
        _sealed_password(camera_id, stream, sealer), enabled, latitude, longitude,
        None if substream is None else substream.public_url,
    )
    return _camera(row)


async def get(pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID) -> Camera | None:
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM cameras WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL",
        camera_id, tenant_id,
    )
    return _camera(row) if row else None


async def list_for_tenant(
    pool: asyncpg.Pool, tenant_id: UUID, *, limit: int = 1000, offset: int = 0
) -> list[Camera]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM cameras WHERE tenant_id = $1 AND deleted_at IS NULL"
        " ORDER BY name LIMIT $2 OFFSET $3",
        tenant_id, limit, offset,
    )
    return [_camera(r) for r in rows]


async def list_enabled(pool: asyncpg.Pool) -> list[Camera]:
    """Every camera that should be recording, across tenants (the Fleet's desired state). A city scheduled for
    deletion records no more (migration 0014): the Fleet stops its cameras on its next pass."""
    columns = ", ".join(f"c.{c.strip()}" for c in _COLUMNS.split(","))
    rows = await pool.fetch(
        f"SELECT {columns}, t.recording_paused FROM cameras c JOIN tenants t ON t.id = c.tenant_id"
        " WHERE c.enabled AND c.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM tenant_deletions d"
        " WHERE d.tenant_id = c.tenant_id AND d.state IN ('scheduled', 'deleting'))"
    )
    return [_camera(r) for r in rows]


async def update(pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID, changes: dict[str, Any],
                 stream: StreamUrl | None = None, sealer: Sealer | None = None) -> Camera | None:
    """Apply ``changes`` (column → value, columns from a fixed set) and a new ``stream`` (its password, if any,
    sealed with ``sealer``); bump the revision. ``substream_url`` is a public URL (or None to remove it)."""
    allowed = {"name", "vendor", "enabled", "latitude", "longitude", "substream_url"}
    if stream is not None:
        changes = {**changes, "rtsp_url": stream.public_url, "rtsp_username": stream.username,
                   "rtsp_password_sealed": _sealed_password(camera_id, stream, sealer)}
        allowed |= {"rtsp_url", "rtsp_username", "rtsp_password_sealed"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)}")
    if not changes:
        return await get(pool, tenant_id, camera_id)
    columns = list(changes)
    assignments = ", ".join(f"{col} = ${i + 3}" for i, col in enumerate(columns))
    row = await pool.fetchrow(
        f"UPDATE cameras SET {assignments}, updated_at = clock_timestamp()"
        f" WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL RETURNING {_COLUMNS}",
        camera_id, tenant_id, *[changes[c] for c in columns],
    )
    return _camera(row) if row else None


async def soft_delete(pool: asyncpg.Pool, tenant_id: UUID, camera_id: UUID) -> bool:
    """Hide the camera and stop its recording; its recordings stay until retention removes them."""
    result: str = await pool.execute(
        "UPDATE cameras SET deleted_at = now(), enabled = false, updated_at = clock_timestamp()"
        " WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL",
        camera_id, tenant_id,
    )
    return result == "UPDATE 1"


async def tenant_of(pool: asyncpg.Pool, camera_id: UUID) -> UUID | None:
    """The city of a camera, deleted or not: the one read without a tenant id, for a node's spool sweep, which
    finds only camera ids on disk (a spool directory per camera) and stores footage recorded before a deletion
    like any other (retention purges it)."""
    value = await pool.fetchval("SELECT tenant_id FROM cameras WHERE id = $1", camera_id)
    return value if isinstance(value, UUID) else None
