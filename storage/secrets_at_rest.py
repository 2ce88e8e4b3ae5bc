"""The start-up pass that leaves no camera secret in PostgreSQL in the clear, nor sealed with a retired key.

Migration 0009 cannot seal (the key is not in the database): it adds the ``*_sealed`` columns, and this pass —
run at every start, after the migrations (runtime/launcher.py) — moves each plaintext value of ``rtsp_password``
and ``lpr_secret`` into its sealed column, clearing the plaintext in the same UPDATE. It is idempotent (a row
with nothing in the old columns is done) and safe to run from two starters at once (rows are locked, skipped
when another holds them). It also seals again, with the current key, values sealed with a previous one, so
retiring an old master secret is: keep it in ``previous_secrets`` for one start, then drop it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from domain.sealing import Sealer, Unsealable, camera_password_context, lpr_secret_context

log = logging.getLogger(__name__)

_BATCH = 500
_COLUMNS = "id, rtsp_password, lpr_secret, rtsp_password_sealed, lpr_secret_sealed"
_PLAINTEXT = "rtsp_password IS NOT NULL OR lpr_secret IS NOT NULL"
_OLD_KEY = "NOT starts_with(rtsp_password_sealed, $2) OR NOT starts_with(lpr_secret_sealed, $2)"

Sealed = tuple[str | None, str | None]  # (rtsp_password_sealed, lpr_secret_sealed)


@dataclass(frozen=True)
class SealReport:
    sealed: int  # rows whose plaintext values were sealed now
    resealed: int  # rows whose values moved from a previous key to the current one
    unopenable: int  # rows sealed with a key this deployment does not hold (left as they are, logged)


async def seal_at_rest(pool: asyncpg.Pool, sealer: Sealer) -> SealReport:
    sealed, _ = await _pass(pool, sealer, _PLAINTEXT, _seal_plaintext)
    resealed, unopenable = await _pass(pool, sealer, _OLD_KEY, _reseal)
    if unopenable:
        log.error("%d cameras hold secrets sealed with a key this deployment does not have: their streams and LPR"
                  " secrets cannot be used until the previous master secret is given (GTVISION_PREVIOUS_SECRETS)"
                  " or new ones are set", unopenable)
    return SealReport(sealed, resealed, unopenable)


def _seal_plaintext(sealer: Sealer, row: asyncpg.Record) -> Sealed:
    password, secret = row["rtsp_password"], row["lpr_secret"]
    return (sealer.seal(password, camera_password_context(row["id"])) if password is not None
            else row["rtsp_password_sealed"],
            sealer.seal(secret, lpr_secret_context(row["id"])) if secret is not None else row["lpr_secret_sealed"])


def _reseal(sealer: Sealer, row: asyncpg.Record) -> Sealed:
    def again(value: str | None, context: str) -> str | None:
        if value is None or sealer.is_current(value):
            return value
        return sealer.seal(sealer.open(value, context), context)

    return (again(row["rtsp_password_sealed"], camera_password_context(row["id"])),
            again(row["lpr_secret_sealed"], lpr_secret_context(row["id"])))


async def _pass(pool: asyncpg.Pool, sealer: Sealer, where: str,
                seal: Callable[[Sealer, asyncpg.Record], Sealed]) -> tuple[int, int]:
    """(rows changed, rows that could not be opened), walking the matching rows once in id order."""
    changed = failed = 0
    after = UUID(int=0)
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM cameras WHERE id > $1 AND ({where}) ORDER BY id LIMIT {_BATCH}"
                " FOR UPDATE SKIP LOCKED", after, *([f"sealed:{sealer.current_id}:"] if "$2" in where else []))
            for row in rows:
                try:
                    password, secret = seal(sealer, row)
                except Unsealable:
                    failed += 1
                    continue
                await conn.execute("UPDATE cameras SET rtsp_password_sealed = $2, lpr_secret_sealed = $3,"
                                   " rtsp_password = NULL, lpr_secret = NULL WHERE id = $1", row["id"], password,
                                   secret)
                changed += 1
        if len(rows) < _BATCH:
            return changed, failed
        after = rows[-1]["id"]
