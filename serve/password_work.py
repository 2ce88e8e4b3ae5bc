"""Argon2id off the event loop, a few at a time: a login flood costs waiting logins, never the replica's loop.

Argon2id is memory-hard on purpose (64 MiB and ~0.1–0.5 s of one core per check on the project's machines).
Run on the event loop, every login froze every WebSocket, webhook and health check of the replica for that
long, and anyone could ask for it without an account. Here each hash or check runs on a dedicated thread pool
(argon2-cffi releases the GIL), at most ``slots`` at once per replica (by default half the node's cores); beyond
``max_waiting`` requests already waiting for a slot, the next is refused at once (503 + Retry-After) instead of
queueing without bound.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

from fastapi import Depends
from starlette.requests import HTTPConnection

from serve.passwords import hash_password, verify_password
from services.refusals import Unavailable

T = TypeVar("T")

WAITING_PER_SLOT = 4  # with ~0.4 s a check, the last in line waits ~2 s at most: then it is cheaper to retry


class PasswordWork:
    """Argon2id hashes and checks for one replica: ``slots`` threads, a bounded line in front of them."""

    @classmethod
    def for_this_node(cls, slots: int | None) -> PasswordWork:
        """``slots``, or half this node's cores: one Argon2id check keeps one core busy (its lanes run in turn),
        and the other half stays for live video and webhooks (benchmarks/login_flood.py)."""
        return cls(slots or max(1, len(os.sched_getaffinity(0)) // 2))

    def __init__(self, slots: int, max_waiting: int | None = None) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._threads = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="argon2")
        self._max_waiting = WAITING_PER_SLOT * slots if max_waiting is None else max_waiting
        self._waiting = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the slots (a login also does its lookups inside it); refuse at once when the line is full."""
        if self._waiting >= self._max_waiting:
            raise Unavailable("too many password checks in progress; retry in a moment", retry_after_s=1)
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Inside ``slot()``: the check on a thread (``None``: checked against a dummy hash, at the same cost)."""
        return await self._in_thread(verify_password, password_hash, password)

    async def hash(self, password: str) -> str:
        async with self.slot():
            return await self._in_thread(hash_password, password)

    async def _in_thread(self, work: Callable[..., T], *args: object) -> T:
        running = asyncio.get_running_loop().run_in_executor(self._threads, work, *args)
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            # The caller left (a client hung up), but the thread runs on: keep its slot until it ends, so the
            # slots bound the threads really working, not the requests still listening.
            await asyncio.wait([running])
            raise

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


def password_work(connection: HTTPConnection) -> PasswordWork:
    work: PasswordWork = connection.app.state.password_work
    return work


async def _password_work(connection: HTTPConnection) -> PasswordWork:
    return password_work(connection)


Passwords = Annotated[PasswordWork, Depends(_password_work)]
