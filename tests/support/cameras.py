"""Helpers for tests that run camera supervisors against real services."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID, uuid4

import asyncpg

from domain.camera import CameraSpec
from domain.camera_health import Transition
from domain.recording import IndexedChunk
from domain.sealing import Sealer
from domain.stream_url import parse_stream_url, parse_substream_url
from storage import cameras, recordings, status_history, tenants

T = TypeVar("T")


TEST_SEALER = Sealer(b"test-data-at-rest-key-of-32-byte")  # what seals the passwords of test cameras


async def camera_spec(pool: asyncpg.Pool, url: str, tenant_id: UUID | None = None, *,
                      substream_url: str | None = None) -> CameraSpec:
    """A camera row (in a new tenant unless one is given; its password sealed; a sub-stream if given) and its spec."""
    if tenant_id is None:
        tenant_id = (await tenants.create(pool, f"city-{uuid4().hex[:8]}")).id
    stream = parse_stream_url(url)
    camera = await cameras.create(pool, tenant_id=tenant_id, name=f"cam-{uuid4().hex[:6]}", vendor="generic",
                                  stream=stream, sealer=TEST_SEALER,
                                  substream=None if substream_url is None else parse_substream_url(substream_url, stream))
    return camera.spec(TEST_SEALER)


async def wait_for(predicate: Callable[[], Awaitable[T | None]], timeout_s: float, interval_s: float = 0.2) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(interval_s)
    raise TimeoutError(f"condition not met within {timeout_s} s")


async def chunks_of(pool: asyncpg.Pool, spec: CameraSpec) -> list[IndexedChunk]:
    now = datetime.now().astimezone()
    return await recordings.in_range(pool, spec.tenant_id, spec.camera_id, now - timedelta(hours=1),
                                     now + timedelta(hours=1))


async def history_of(pool: asyncpg.Pool, spec: CameraSpec) -> list[Transition]:
    now = datetime.now().astimezone()
    return await status_history.between(pool, spec.tenant_id, spec.camera_id, now - timedelta(hours=1),
                                        now + timedelta(hours=1))


def gaps_s(chunks: list[IndexedChunk]) -> list[float]:
    """Seconds between consecutive chunks (0 where they touch; never negative if nothing overlaps)."""
    return [(after.start - before.end).total_seconds() for before, after in itertools.pairwise(chunks)]
