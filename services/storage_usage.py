"""How full the storage is: the object store (a directory's disk, or a bucket's configured capacity) and this
node's spool disk, as (used, total) bytes — what the watermarks are checked against."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from domain.settings import Settings
from storage import purges


async def storage_usage(settings: Settings, pool: asyncpg.Pool) -> dict[str, tuple[int, int]]:
    """``{"object_store": (used, total), "spool": (used, total)}``, each where it can be measured."""
    usage: dict[str, tuple[int, int]] = {}
    if settings.object_store_url.startswith("file://"):
        disk = await asyncio.to_thread(_disk_usage, Path(urlsplit(settings.object_store_url).path))
        if disk is not None:
            usage["object_store"] = disk
    elif settings.object_store_capacity_bytes:
        usage["object_store"] = (await purges.bytes_used(pool, None), settings.object_store_capacity_bytes)
    spool = await asyncio.to_thread(_disk_usage, Path(settings.spool_dir))
    if spool is not None:
        usage["spool"] = spool
    return usage


def _disk_usage(path: Path) -> tuple[int, int] | None:
    """(used, total) bytes of the file system holding ``path``, or None if it does not exist yet."""
    if not path.exists():
        return None
    disk = shutil.disk_usage(path)
    return disk.total - disk.free, disk.total
