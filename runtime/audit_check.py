"""``gtvision audit verify``: find the deployment's database and object store, then check the audit trail.

The database is ``--database-url`` (GTVISION_DATABASE_URL), else the embedded PostgreSQL of the instance
running on the var dir (as ``gtvision status`` finds it); the object store is ``--object-store``
(GTVISION_OBJECT_STORE), else the var dir's ``objects`` directory when there is one. The checking itself is
services/audit_verify.py.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from runtime.instance import running
from services.audit_verify import AuditVerdict, report_lines, verify_trail
from storage.db import create_pool
from storage.objects import ObjectStore, open_object_store

INTACT, TAMPERED, CANNOT_CHECK = 0, 1, 2


class NoDatabase(Exception):
    """Neither a DSN was given nor does an instance run on the var dir."""


def database_of(var_dir: Path, database_url: str | None) -> str:
    if database_url:
        return database_url
    instance = running(var_dir)
    if instance is None or not instance.database_url:
        raise NoDatabase(f"no database to check: pass --database-url (or GTVISION_DATABASE_URL), or run this while"
                         f" gtvision up runs on {var_dir} with its embedded PostgreSQL")
    return instance.database_url


def object_store_of(var_dir: Path, object_store_url: str | None) -> ObjectStore | None:
    """The store holding the anchors; None when there is none to read (no flag and no VAR_DIR/objects)."""
    if object_store_url:
        return open_object_store(object_store_url)
    objects = var_dir / "objects"
    return open_object_store(objects.as_uri()) if objects.is_dir() else None


async def check(database_url: str, store: ObjectStore | None) -> AuditVerdict:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        return await verify_trail(pool, store)
    finally:
        await pool.close()


def verify_command(var_dir: Path, database_url: str | None, object_store_url: str | None, *,
                   as_json: bool) -> tuple[int, str]:
    """(exit status, what to print): 0 intact, 1 tampered with (the first broken link named), 2 cannot check."""
    dsn = database_of(var_dir, database_url)
    store = object_store_of(var_dir, object_store_url)
    verdict = asyncio.run(check(dsn, store))
    status = INTACT if verdict.intact else TAMPERED
    if not as_json:
        lines = report_lines(verdict)
        if store is None:
            lines.insert(1, "anchors: no object store to read them from (pass --object-store)")
        return status, "\n".join(lines)
    broken = verdict.broken
    return status, json.dumps({
        "intact": verdict.intact, "rows": verdict.rows, "last_id": verdict.last_id, "head": verdict.head.hex(),
        "anchors_checked": verdict.anchors_checked, "anchor_problems": verdict.anchor_problems,
        "broken": None if broken is None else {"id": broken.id, "at": broken.at.isoformat() if broken.at else None,
                                               "action": broken.action, "reason": broken.reason}})
