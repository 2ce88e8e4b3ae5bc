"""``gtvision audit verify`` and the daily anchors, on a real PostgreSQL and a real (directory) object store.

Each test has a database of its own: forcing a change as the superuser breaks the chain for good.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from domain.audit_anchors import anchor_key
from services.audit_anchoring import anchor_of_day, anchor_today
from services.audit_verify import report_lines, verify_trail
from storage import audit
from storage.db import create_pool, migrate
from storage.objects import DirObjectStore, open_object_store
from tests.support.databases import create_database, drop_database, forced
from tests.support.gtvision_process import gtvision

pytestmark = pytest.mark.integration


@dataclass
class Trail:
    dsn: str
    pool: asyncpg.Pool
    store: DirObjectStore
    objects: Path
    ids: list[int]


@pytest.fixture
async def trail(tmp_path: Path) -> AsyncIterator[Trail]:
    """A fresh database with 12 audit rows, and an empty directory object store."""
    dsn = await create_database()
    pool = await create_pool(dsn, max_size=4)
    try:
        await migrate(pool)
        for i in range(12):
            await audit.record(pool, uuid4(), "camera.updated", tenant_id=uuid4(), detail={"n": i})
        ids = [r["id"] for r in await pool.fetch("SELECT id FROM audit_log ORDER BY id")]
        objects = tmp_path / "objects"
        store = open_object_store(objects.as_uri())
        assert isinstance(store, DirObjectStore)
        yield Trail(dsn, pool, store, objects, ids)
    finally:
        await pool.close()
        await drop_database(dsn)


async def test_an_intact_trail_with_its_anchors_verifies(trail: Trail) -> None:
    day_one = datetime(2031, 3, 1, 23, 30, tzinfo=UTC)
    first = await anchor_today(trail.pool, trail.store, day_one)
    assert first.anchor.last_id == trail.ids[-1]
    await audit.record(trail.pool, None, "retention.purged", tenant_id=None)
    newest = await trail.pool.fetchval("SELECT max(id) FROM audit_log")
    # Idempotent per day: a later pass the same day keeps the day's anchor; the next day gets its own.
    assert await anchor_today(trail.pool, trail.store, day_one + timedelta(minutes=20)) == first
    second = await anchor_today(trail.pool, trail.store, day_one + timedelta(hours=1))
    assert second.day.isoformat() == "2031-03-02" and second.anchor.last_id == newest
    stored = json.loads(trail.store.get(anchor_key(first.day)))
    assert stored == {"day": "2031-03-01", "last_id": trail.ids[-1], "row_hash": first.anchor.row_hash.hex(),
                      "at": day_one.isoformat()}
    assert await anchor_of_day(trail.store, day_one) == first

    verdict = await verify_trail(trail.pool, trail.store)
    assert verdict.intact and verdict.rows == 13 and verdict.anchors_checked == 2
    assert verdict.last_id == newest
    assert "13 rows checked" in report_lines(verdict)[0] and report_lines(verdict)[-1] == "the audit trail is intact"


async def test_an_edited_row_is_named_with_its_time_and_action(trail: Trail) -> None:
    await forced(trail.pool, "UPDATE audit_log SET detail = '{\"n\": 999}' WHERE id = $1", trail.ids[5])
    verdict = await verify_trail(trail.pool, trail.store)
    assert not verdict.intact and verdict.broken is not None
    assert (verdict.broken.id, verdict.broken.action) == (trail.ids[5], "camera.updated")
    assert verdict.broken.at is not None and "altered" in verdict.broken.reason
    assert any(line.startswith(f"BROKEN at row {trail.ids[5]} (") for line in report_lines(verdict))


async def test_a_cut_tail_with_the_head_rewritten_is_caught_by_the_anchor(trail: Trail) -> None:
    await anchor_today(trail.pool, trail.store, datetime.now(UTC))
    keep = trail.ids[7]
    await forced(trail.pool, "DELETE FROM audit_log WHERE id > $1", keep)
    head = await trail.pool.fetchval("SELECT row_hash FROM audit_log WHERE id = $1", keep)
    await forced(trail.pool, "UPDATE audit_chain_head SET last_id = $1, row_hash = $2", keep, head)
    assert (await verify_trail(trail.pool, None)).intact, "without anchors the shorter chain looks whole"
    verdict = await verify_trail(trail.pool, trail.store)
    assert not verdict.intact and verdict.broken is not None and verdict.broken.id == trail.ids[-1]
    assert verdict.broken.at is None and "cut" in verdict.broken.reason
    assert len(verdict.anchor_problems) == 1 and "cut" in verdict.anchor_problems[0]


async def test_a_damaged_anchor_object_is_reported(trail: Trail) -> None:
    trail.store.put("audit/anchors/2031-01-01.json", b"{not json")
    verdict = await verify_trail(trail.pool, trail.store)
    assert not verdict.intact and verdict.broken is None
    assert verdict.anchor_problems and "2031-01-01.json" in verdict.anchor_problems[0]


async def test_the_command_exits_0_on_an_intact_trail_and_1_naming_the_broken_row(trail: Trail, tmp_path: Path) -> None:
    await anchor_today(trail.pool, trail.store, datetime.now(UTC))
    args = ("audit", "verify", "--var-dir", str(tmp_path / "var"), "--database-url", trail.dsn,
            "--object-store", trail.objects.as_uri())
    ok = gtvision(*args)
    assert ok.returncode == 0, ok.stderr
    assert "12 rows checked" in ok.stdout and "anchors: 1 checked" in ok.stdout and "intact" in ok.stdout

    await forced(trail.pool, "UPDATE audit_log SET action = 'nothing.to.see' WHERE id = $1", trail.ids[3])
    bad = gtvision(*args)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"BROKEN at row {trail.ids[3]} (" in bad.stdout and "nothing.to.see" in bad.stdout
    as_json = json.loads(gtvision(*args, "--json").stdout)
    assert as_json["intact"] is False and as_json["broken"]["id"] == trail.ids[3]


def test_the_command_without_a_database_says_how_to_give_one(tmp_path: Path) -> None:
    answer = gtvision("audit", "verify", "--var-dir", str(tmp_path / "nothing-runs-here"))
    assert answer.returncode == 2 and "--database-url" in answer.stderr


async def test_an_application_role_granted_as_docs_audit_md_says_can_append_and_nothing_else(trail: Trail) -> None:
    role = f"gtv_app_{uuid4().hex[:8]}"
    statements = (Path(__file__).parents[2] / "docs" / "audit.md").read_text().split("```sql\n")[1].split("```")[0]
    await trail.pool.execute(f"CREATE ROLE {role} LOGIN")
    try:
        await trail.pool.execute(statements.replace("gtvision_app", role))
        app = await create_pool(trail.dsn.replace("://postgres@", f"://{role}@"), max_size=1)
        try:
            assert await app.fetchval("SELECT current_user") == role
            await audit.record(app, None, "user.login", tenant_id=None, source="192.0.2.1")
            assert await app.fetchval("SELECT count(*) FROM audit_log") == 13
            for sql in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                        "ALTER TABLE audit_log DISABLE TRIGGER USER", "SET session_replication_role = replica"):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await app.execute(sql)
        finally:
            await app.close()
        assert (await verify_trail(trail.pool, None)).intact
    finally:
        await trail.pool.execute(f"DROP OWNED BY {role}")
        await trail.pool.execute(f"DROP ROLE {role}")
