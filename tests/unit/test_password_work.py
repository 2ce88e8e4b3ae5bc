"""The password slots and the in-memory failure limits (the in-Ray bus's deployments), without services."""

from __future__ import annotations

import asyncio

import pytest
from argon2 import PasswordHasher

from serve import passwords
from serve.login_limits import LoginLimits
from serve.password_work import PasswordWork
from services.refusals import Unavailable


async def test_the_line_for_a_slot_is_bounded_and_the_overflow_refused_at_once() -> None:
    work = PasswordWork(slots=1, max_waiting=2)
    release = asyncio.Event()
    entered: list[int] = []

    async def holder(n: int) -> None:
        async with work.slot():
            entered.append(n)
            await release.wait()

    holders = [asyncio.create_task(holder(n)) for n in range(3)]  # one in the slot, two in line
    await asyncio.sleep(0.01)
    with pytest.raises(Unavailable) as refused:
        async with work.slot():
            pass
    assert refused.value.retry_after_s == 1 and entered == [0]
    release.set()
    await asyncio.gather(*holders)
    assert entered == [0, 1, 2]
    work.close()


async def test_hash_and_verify_run_on_the_work_threads() -> None:
    work = PasswordWork(slots=2)
    digest = await work.hash("a long password")
    async with work.slot():
        assert await work.verify(digest, "a long password")
        assert not await work.verify(digest, "another password")
        assert not await work.verify(None, "a long password")  # unknown user: the dummy hash, never a match
    work.close()


def test_the_dummy_hash_costs_what_a_real_hash_costs() -> None:
    """An unknown username is checked at the same Argon2id parameters as a stored hash: no timing difference."""
    assert not PasswordHasher().check_needs_rehash(passwords._DUMMY_HASH)


async def test_limits_in_memory_when_the_bus_is_not_redis() -> None:
    limits = LoginLimits.for_bus("ray://", failures_per_minute=2)
    assert await limits.wait_s("10.0.0.1", "ana") is None
    await limits.failed("10.0.0.1", "ana")
    await limits.failed("10.0.0.1", "bia")
    wait_s = await limits.wait_s("10.0.0.1", "carla")  # the address is over; the username is not
    assert wait_s is not None and 1 <= wait_s <= 60
    await limits.failed("10.0.0.2", "ana")
    assert await limits.wait_s("10.0.0.3", "ana") is not None
    await limits.succeeded("ana")
    assert await limits.wait_s("10.0.0.3", "ana") is None
    await limits.close()
