"""The audit trail of a city: who did what, when and from where (managers of the city and admins; docs/audit.md).

Filters: actor (``user_id``), action (exact, or a prefix ending in a dot: ``lpr.``), camera and the time range.
Pages are newest first and keyed by row id: ``before_id`` is the ``X-Next-Before-Id`` of the page before.
``format=csv`` streams up to ``MAX_CSV_ROWS`` rows as CSV, page by page; every row carries its chain hash.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import StreamingResponse

from domain.audit import CSV_COLUMNS, AuditEntry, action_filter, csv_row
from domain.rbac import Action
from serve.bodies import bodies
from serve.deps import Caller, Res
from serve.time_range import checked_range
from services.scope import require, scoped_tenant
from storage import audit

router = APIRouter(prefix="/audit", tags=["audit"])

MAX_PAGE = 10_000
MAX_CSV_ROWS = 100_000
_CSV_PAGE = 2_000
NEXT_PAGE_HEADER = "X-Next-Before-Id"


@router.get("", response_model=None)
async def audit_log(caller: Caller, res: Res, response: Response, start: datetime = Query(...),
                    end: datetime = Query(...), tenant_id: UUID | None = Query(None),
                    camera_id: UUID | None = Query(None), user_id: UUID | None = Query(None, description="the actor"),
                    action: str | None = Query(None, max_length=100,
                                               description="exact, or a prefix ending in '.' (e.g. lpr.)"),
                    before_id: int | None = Query(None, ge=1, description="the X-Next-Before-Id of the page before"),
                    limit: int | None = Query(None, ge=1, le=MAX_CSV_ROWS,
                                              description=f"rows: ≤ {MAX_PAGE} (default 1000) as JSON, ≤ {MAX_CSV_ROWS}"
                                                          f" (default all up to it) as CSV"),
                    format: Literal["json", "csv"] = Query("json")) -> list[dict[str, Any]] | StreamingResponse:
    tenant = scoped_tenant(caller, tenant_id)
    require(caller, Action.WRITE, tenant)  # viewers do not read the trail of others
    checked_range(start, end, timedelta(days=366))
    actions = action_filter(action)

    async def page(before: int | None, size: int) -> list[AuditEntry]:
        return await audit.search(res.pool, tenant, start, end, camera_id=camera_id, user_id=user_id, action=actions,
                                  before_id=before, limit=size)

    if format == "csv":
        return StreamingResponse(_csv(page, before_id, limit or MAX_CSV_ROWS), media_type="text/csv",
                                 headers={"content-disposition": f'attachment; filename="audit-{tenant}.csv"'})
    size = limit or 1000
    if size > MAX_PAGE:
        raise HTTPException(422, f"limit: at most {MAX_PAGE} rows per JSON page (or format=csv)")
    entries = await page(before_id, size)
    if len(entries) == size:
        response.headers[NEXT_PAGE_HEADER] = str(entries[-1].id)
    return bodies(entries)


Page = Callable[[int | None, int], Awaitable[list[AuditEntry]]]  # (before_id, size) → entries


async def _csv(page: Page, before: int | None, rows: int) -> AsyncIterator[str]:
    """The header, then page after page until ``rows`` rows or the end of the range."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    while rows > 0:
        entries = await page(before, min(_CSV_PAGE, rows))
        writer.writerows(csv_row(e) for e in entries)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(entries) < min(_CSV_PAGE, rows):
            return
        rows -= len(entries)
        before = entries[-1].id
