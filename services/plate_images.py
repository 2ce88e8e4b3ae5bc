"""A plate read's evidence images, to those allowed to see the read's plate in full; every look is audited.

A picture of a plate shows the plate whatever the masking of the text, so a viewer who sees masked plates
(docs/lpr.md "Plate masking") is refused the image too.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg

from domain.rbac import Principal
from services.plate_view import plate_view_for
from services.refusals import NotAllowed, NotFound
from services.scope import scoped_tenant
from storage import audit, lpr_events
from storage.objects import ObjectNotFound, ObjectStore


async def plate_image(pool: asyncpg.Pool, store: ObjectStore, caller: Principal, event_id: UUID, index: int,
                      tenant_id: UUID | None = None) -> bytes:
    """The JPEG bytes of image ``index`` (0-based) of read ``event_id``; audited ``lpr.image``."""
    tenant = scoped_tenant(caller, tenant_id)
    read = await lpr_events.get(pool, tenant, event_id)
    if read is None:
        raise NotFound("plate read not found")
    if not 0 <= index < len(read.image_keys):
        raise NotFound(f"the read has {len(read.image_keys)} image(s); index {index} does not exist")
    if (await plate_view_for(pool, caller, tenant)).masked:
        raise NotAllowed("this city masks plates for viewers: a read's image shows the plate in full")
    try:
        data = await asyncio.to_thread(store.get, read.image_keys[index])
    except ObjectNotFound:
        raise NotFound("the image is gone (the read was anonymized or its images expired)") from None
    await audit.record(pool, caller.user_id, "lpr.image", tenant_id=tenant, camera_id=read.camera_id,
                       detail={"event_id": str(event_id), "index": index})
    return data
