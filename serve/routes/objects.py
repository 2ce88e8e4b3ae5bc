"""Presigned GETs for the local-directory object store (S3 serves its own).

Players cannot send Authorization headers, so the URL carries an expiry and an
HMAC signature bound to the key; single byte ranges are honoured.
"""

from __future__ import annotations

import asyncio
import re

from fastapi import APIRouter, HTTPException, Query, Request, Response

from serve.deps import Res
from storage.objects import DirObjectStore, ObjectNotFound

router = APIRouter(prefix="/objects", tags=["objects"])

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@router.get("/{key:path}")
async def get_object(
    key: str, request: Request, res: Res,
    expires: int = Query(...), signature: str = Query(..., max_length=128),
) -> Response:
    store = res.store
    if not isinstance(store, DirObjectStore):
        raise HTTPException(404, "objects are served by the S3 store")
    try:
        valid = store.verify_signature(key, expires, signature)
    except (ValueError, TypeError):  # TypeError: hmac refuses to compare non-ASCII text (a forged signature)
        valid = False
    if not valid:
        raise HTTPException(403, "signature invalid or expired")
    info = await asyncio.to_thread(store.stat, key)
    if info is None:
        raise HTTPException(404, "object not found")
    headers = {"Accept-Ranges": "bytes", "Content-Type": "video/mp4" if key.endswith(".mp4") else "application/octet-stream"}
    range_header = request.headers.get("range")
    try:
        if range_header:
            match = _RANGE.match(range_header.strip())
            if match is None:
                raise HTTPException(416, "only a single 'bytes=start-end' range is supported")
            first = int(match[1])
            last = min(int(match[2]) if match[2] else info.size - 1, info.size - 1)
            if first > last:
                raise HTTPException(416, f"range outside the object's {info.size} bytes")
            body = await asyncio.to_thread(store.get_range, key, first, last - first + 1)
            headers["Content-Range"] = f"bytes {first}-{last}/{info.size}"
            return Response(body, status_code=206, headers=headers)
        return Response(await asyncio.to_thread(store.get, key), headers=headers)
    except ObjectNotFound:
        raise HTTPException(404, "object not found") from None
