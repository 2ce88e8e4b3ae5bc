"""The API as a plain ASGI app on the real PostgreSQL and Redis, no Ray: the lightest way to test its routes
(``running_api``), or on a real local port for what needs one, WebSockets (``served_api``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from domain.settings import Settings
from serve.app import create_app
from tests.support.ports import free_port


@asynccontextmanager
async def running_api(settings: Settings, base_url: str = "http://127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app for ``settings``, with its start-up and shut-down run around it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
        yield client


@asynccontextmanager
async def served_api(settings: Settings, app: FastAPI | None = None) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """The app (``create_app(settings)`` unless given) under uvicorn on a free local port, in the test's own event
    loop: its ``ws://…/api/v1`` base and an HTTP client of it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app or create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(200):  # up to 10 s
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started, "the API did not start"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield f"ws://127.0.0.1:{port}/api/v1", http
    finally:
        server.should_exit = True
        await serving
