"""One contract, two backends: Redis streams (the machine's Redis) and the in-memory streams."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from storage.bus import EventBus, MemoryStreams, RedisBus

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["redis", "memory"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    if request.param == "memory":
        yield MemoryStreams(maxlen=50)
        return
    prefix = f"gtv-test-{uuid.uuid4().hex[:8]}:"
    redis_bus = RedisBus(REDIS_URL, prefix=prefix, maxlen=50)
    yield redis_bus
    keys = [k async for k in redis_bus._redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis_bus._redis.delete(*keys)
    await redis_bus.close()


async def test_events_come_back_in_order_with_increasing_ids(bus: EventBus) -> None:
    ids = [await bus.publish("s", {"n": n, "camera": "c1"}) for n in range(5)]
    events = await bus.read("s")
    assert [e[0] for e in events] == ids
    assert [e[1]["n"] for e in events] == list(range(5))
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))


async def test_resume_after_an_id_misses_nothing_and_repeats_nothing(bus: EventBus) -> None:
    ids = [await bus.publish("s", {"n": n}) for n in range(10)]
    first = await bus.read("s", count=4)
    rest = await bus.read("s", after=first[-1][0])
    assert [e[0] for e in first + rest] == ids
    assert await bus.read("s", after=ids[-1]) == []


async def test_streams_are_separate_and_bounded(bus: EventBus) -> None:
    await bus.publish("a", {"x": 1})
    assert await bus.read("b") == []
    for n in range(120):
        await bus.publish("big", {"n": n})
    kept = await bus.read("big", count=1000)
    assert len(kept) == 50
    assert kept[-1][1]["n"] == 119


async def test_blocking_read_wakes_on_publish_and_times_out_otherwise(bus: EventBus) -> None:
    start = time.monotonic()
    assert await bus.read("quiet", after="0-0", block_s=0.3) == []
    assert time.monotonic() - start >= 0.25

    async def later() -> None:
        await asyncio.sleep(0.2)
        await bus.publish("live", {"hello": "world"})

    task = asyncio.create_task(later())
    got = await bus.read("live", after="0-0", block_s=5)
    await task
    assert [e[1] for e in got] == [{"hello": "world"}]


async def test_bad_ids_are_refused(bus: EventBus) -> None:
    with pytest.raises(ValueError, match="bad event id"):
        await bus.read("s", after="not-an-id")
