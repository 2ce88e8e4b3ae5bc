"""Failed logins per source address and per username in a one-minute moving window (the ``limits`` library).

With a Redis bus the counts live in Redis under the deployment's key prefix, so every API replica sees the same
counts; with the in-Ray bus (one machine) they live in the replica's memory. Only failures count: a success
clears its username's count (so a user who mistyped is not locked out by their own past) and leaves the
address's count alone (so an attacker who owns one account cannot wipe an address's failures by logging in).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from storage.bus import is_redis_url, redis_server_and_prefix

BLOCKED_ADDRESSES_KEPT = 10_000
REDIS_CONNECTIONS = 16  # per replica: a flood waits for one of these instead of opening hundreds at once
REDIS_TIMEOUT_S = 5.0  # a stalled Redis makes a login fail (503), never hang


@dataclass(frozen=True)
class Standing:
    address_left: int  # failures the address may still have in the window
    username_left: int
    wait_s: int | None  # over the limit: seconds until the next try may be made


class LoginLimits:
    """Counts failed logins; says how long an address or a username must wait before its next try."""

    def __init__(self, storage: Storage, failures_per_minute: int, pool: redis.asyncio.ConnectionPool | None = None) -> None:
        self.failures_per_minute = failures_per_minute
        self._limiter = MovingWindowRateLimiter(storage)
        self._limit = RateLimitItemPerMinute(failures_per_minute)
        self._pool = pool
        # Addresses found over the limit, and until when: their count only falls as failures age out (a success
        # does not clear it), so until then the answer is known without asking Redis. Usernames are not kept:
        # a success on another replica clears them.
        self._blocked_addresses: dict[str, float] = {}

    @classmethod
    def for_bus(cls, bus_url: str, failures_per_minute: int) -> LoginLimits:
        """In the bus's Redis (same server and key prefix) when it is Redis, else in this replica's memory."""
        if not is_redis_url(bus_url):
            return cls(MemoryStorage(), failures_per_minute)
        server, prefix = redis_server_and_prefix(bus_url)
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            server, max_connections=REDIS_CONNECTIONS, timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S)
        # The pool is the connection (redis://, rediss:// or unix://, as the bus takes); the URI only picks redis-py.
        connection: dict[str, Any] = {"connection_pool": pool}  # limits types its options as scalars
        storage = RedisStorage("async+redis://", implementation="redispy", key_prefix=f"{prefix}login", **connection)
        return cls(storage, failures_per_minute, pool)

    async def standing(self, address: str, username: str) -> Standing:
        """How many more failures this address and this username may have now, or how long they must wait."""
        blocked_until = self._blocked_addresses.get(address)
        if blocked_until is not None and blocked_until > time.time():
            return Standing(0, 0, _seconds_until(blocked_until))  # a flooding address costs no Redis round trip
        by_address = await self._limiter.get_window_stats(self._limit, _address_key(address))
        if by_address.remaining <= 0:
            if len(self._blocked_addresses) >= BLOCKED_ADDRESSES_KEPT:
                self._blocked_addresses.clear()  # bounded: forgetting only costs a Redis round trip
            self._blocked_addresses[address] = by_address.reset_time
            return Standing(0, 0, _seconds_until(by_address.reset_time))
        by_username = await self._limiter.get_window_stats(self._limit, _username_key(username))
        wait_s = None if by_username.remaining > 0 else _seconds_until(by_username.reset_time)
        return Standing(by_address.remaining, by_username.remaining, wait_s)

    async def wait_s(self, address: str, username: str) -> int | None:
        """Seconds until this address and this username may both try again; None when they may now."""
        return (await self.standing(address, username)).wait_s

    async def failed(self, address: str, username: str) -> None:
        await self._limiter.hit(self._limit, _address_key(address))
        await self._limiter.hit(self._limit, _username_key(username))

    async def succeeded(self, username: str) -> None:
        await self._limiter.clear(self._limit, _username_key(username))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()



def _seconds_until(epoch_s: float) -> int:
    return max(1, math.ceil(epoch_s - time.time()))


def _address_key(address: str) -> str:
    return "address/" + address


def _username_key(username: str) -> str:
    # Hashed: a key of bounded length whatever is typed, and no usernames (personal data) in Redis's keys.
    return "username/" + hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]
