"""The API as a plain ASGI app on the real PostgreSQL and Redis, no Ray: the lightest way to test its routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from domain.settings import Settings
from serve.app import create_app


@asynccontextmanager
async def running_api(settings: Settings, base_url: str = "http://127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app for ``settings``, with its start-up and shut-down run around it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
        yield client
