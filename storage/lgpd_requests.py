"""Data-subject requests about plates (table ``lgpd_requests``, migration 0012)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from domain.lgpd_requests import LgpdRequest, RequestKind
from storage.rows import record

_COLUMNS = ("id, tenant_id, plate, plate_pseudonym, kind, legal_basis, request_reference, note, requested_by,"
            " received_at, due_at, completed_at, completed_by, state")


def _record(row: asyncpg.Record) -> LgpdRequest:
    return record(LgpdRequest, row, kind=RequestKind)


async def create(pool: asyncpg.Pool, *, tenant_id: UUID, plate: str | None, pseudonym: str, kind: RequestKind,
                 legal_basis: str, request_reference: str | None, note: str | None, requested_by: UUID,
                 received_at: datetime, due_at: datetime) -> LgpdRequest:
    row = await pool.fetchrow(
        f"INSERT INTO lgpd_requests (id, tenant_id, plate, plate_pseudonym, kind, legal_basis, request_reference,"
        f" note, requested_by, received_at, due_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING {_COLUMNS}",
        uuid4(), tenant_id, plate, pseudonym, kind.value, legal_basis, request_reference, note, requested_by,
        received_at, due_at)
    return _record(row)


async def get(pool: asyncpg.Pool, tenant_id: UUID, request_id: UUID) -> LgpdRequest | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM lgpd_requests WHERE tenant_id = $1 AND id = $2",
                              tenant_id, request_id)
    return None if row is None else _record(row)


async def list_for_tenant(pool: asyncpg.Pool, tenant_id: UUID, *, open_only: bool, limit: int) -> list[LgpdRequest]:
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM lgpd_requests WHERE tenant_id = $1 AND (NOT $2 OR state = 'open')"
        f" ORDER BY received_at DESC, id LIMIT $3", tenant_id, open_only, limit)
    return [_record(row) for row in rows]


async def complete(pool: asyncpg.Pool, tenant_id: UUID, request_id: UUID, completed_by: UUID) -> LgpdRequest | None:
    """Mark an open request completed now; None if it was not open any more (completed meanwhile)."""
    row = await pool.fetchrow(
        f"UPDATE lgpd_requests SET state = 'completed', completed_at = now(), completed_by = $3"
        f" WHERE tenant_id = $1 AND id = $2 AND state = 'open' RETURNING {_COLUMNS}", tenant_id, request_id,
        completed_by)
    return None if row is None else _record(row)


async def forget_plate(pool: asyncpg.Pool, tenant_id: UUID, pseudonym: str) -> int:
    """Once the subject is anonymized, its requests keep only the pseudonym."""
    done: str = await pool.execute(
        "UPDATE lgpd_requests SET plate = NULL WHERE tenant_id = $1 AND plate_pseudonym = $2 AND plate IS NOT NULL",
        tenant_id, pseudonym)
    return int(done.split()[-1])


