"""``GET /lpr/events/{id}/images/{n}``: a plate read's evidence image (JPEG), audited (services/plate_images.py).

Bearer-only: the console fetches it with its access token and shows a blob, so no footage URL carries a token.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from serve.deps import Caller, Res
from services.plate_images import plate_image

router = APIRouter(tags=["lpr"])


@router.get("/lpr/events/{event_id}/images/{index}", response_class=Response)
async def read_image(event_id: UUID, caller: Caller, res: Res, index: int = Path(ge=0, le=15),
                     tenant_id: UUID | None = Query(None)) -> Response:
    jpeg = await plate_image(res.pool, res.store, caller, event_id, index, tenant_id)
    return Response(jpeg, media_type="image/jpeg", headers={"cache-control": "private, max-age=300"})
