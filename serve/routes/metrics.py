"""``GET /api/v1/metrics``: the node's scrape target, in Prometheus text format (docs/metrics.md).

The API's own series (every replica of this node) followed by what this node's
actors export through Ray. Unauthenticated, as scrape targets are: it carries
counts and ids, no footage, plates or names; deployments that expose the API
beyond their network filter the path at their proxy.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from serve import metrics

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
async def scrape(request: Request) -> Response:
    state = request.app.state
    body = metrics.exposition() + await state.ray_series.exposition(state.http)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
