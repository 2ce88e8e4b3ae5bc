"""The one bounded retry loop: retries until success, gives up after its limit, never swallows cancellation."""

from __future__ import annotations

import asyncio

import pytest

from services.retry import GaveUp, retrying


async def test_it_retries_until_the_attempt_works_and_reports_each_failure() -> None:
    calls: list[int] = []
    failures: list[Exception] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("down")
        return "stored"

    assert await retrying(flaky, what="store", first_s=0.001, cap_s=0.002, on_failure=failures.append) == "stored"
    assert len(calls) == 3 and [str(f) for f in failures] == ["down", "down"]


async def test_it_gives_up_after_its_attempts_with_the_last_failure_as_cause() -> None:
    async def broken() -> None:
        raise ValueError("bad")

    with pytest.raises(GaveUp) as gave_up:
        await retrying(broken, what="store", attempts=2, first_s=0.001)
    assert isinstance(gave_up.value.__cause__, ValueError)


async def test_a_slow_attempt_times_out_and_cancellation_stops_the_loop() -> None:
    async def hangs() -> None:
        await asyncio.sleep(10)

    loop = asyncio.create_task(retrying(hangs, what="hang", timeout_s=0.01, first_s=0.001, cap_s=0.002))
    await asyncio.sleep(0.1)
    assert not loop.done(), "timeouts are failures: it keeps trying"
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
