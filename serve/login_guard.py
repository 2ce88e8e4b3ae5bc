"""What stands between ``POST /auth/login`` and Argon2id: the failure limits first, then a bounded password slot.

Order matters. A refused address or username costs one Redis round trip and no hashing (429 + Retry-After);
only then does the attempt wait for one of the replica's few password slots (serve/password_work.py), and once
it has one the limits are read again, because the attempts ahead of it in line may have used up the window.
Attempts still being checked count as failures to be: a burst from one address gets 429 beyond its limit at
once, not a place in line (and 503s).
Unknown usernames are checked against a dummy hash (serve/passwords.py): the same work and the same answer as a
wrong password, so neither timing nor status tells which users exist. docs/security/login.md says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
from fastapi import HTTPException
from starlette.requests import HTTPConnection

from domain.settings import Settings
from domain.user import User
from serve.login_limits import LoginLimits, Standing
from serve.password_work import PasswordWork
from storage import users


class LoginFailed(HTTPException):
    """401: the username is unknown or the password wrong (one answer for both); ``user`` is who was named, if
    anyone, for the audit row of the failure (services/sessions.py)."""

    def __init__(self, user: User | None) -> None:
        super().__init__(401, "invalid username or password")
        self.user = user


PENDING_WAIT_S = 1  # over the limit only with attempts still being checked: their answers come within ~1 s


def client_address(connection: HTTPConnection) -> str:
    """The address failures are counted against: the direct peer of this server.

    The hook for trusted proxies: behind a proxy the deployment trusts, this is where the client address it
    forwards (X-Forwarded-For, Forwarded) must replace the peer's. Until then a forwarded header is ignored:
    anyone can write one, and an attacker would pick a fresh address per attempt.
    """
    return connection.client.host if connection.client else "unknown"


@dataclass
class LoginGuard:
    limits: LoginLimits
    passwords: PasswordWork
    # Attempts in this replica between the first look at the limits and their outcome, per address and per
    # username: at most the slots and their line, so bounded.
    _pending: Counter[str] = field(default_factory=Counter)

    @classmethod
    def for_settings(cls, settings: Settings, passwords: PasswordWork) -> LoginGuard:
        return cls(LoginLimits.for_bus(settings.bus_url, settings.login_failures_per_minute), passwords)

    async def authenticate(self, pool: asyncpg.Pool, address: str, username: str, password: str, *,
                           tenant_id: UUID | None = None) -> User:
        """The user whose password this is; else 401 (and one more failure for the address and the username),
        429 while either has failed too often, 503 while too many checks are in line."""
        keys = ("address/" + address, "username/" + username)
        if max(self._pending[keys[0]], self._pending[keys[1]]) >= self.limits.failures_per_minute:
            self._admit(Standing(0, 0, PENDING_WAIT_S), keys)  # a burst beyond the limit costs no Redis round trip
        self._admit(await self.limits.standing(address, username), keys)
        with self._pending_attempt(keys):  # no await since the look: what the attempts ahead do is counted
            async with self.passwords.slot():
                self._admit(await self.limits.standing(address, username), keys, itself=1)
                found = await users.credentials(pool, username, tenant_id)
                valid = await self.passwords.verify(found[1] if found else None, password)
                if found is None or not valid:
                    # Counted while still holding the slot and the pending mark, which then go without a pause:
                    # the next in line sees this failure once, never twice nor not at all.
                    await self.limits.failed(address, username)
                    raise LoginFailed(found[0] if found else None)
        await self.limits.succeeded(username)
        return found[0]

    async def close(self) -> None:
        await self.limits.close()

    @contextmanager
    def _pending_attempt(self, keys: tuple[str, str]) -> Iterator[None]:
        self._pending.update(keys)
        try:
            yield
        finally:
            self._pending.subtract(keys)
            for key in keys:
                if self._pending[key] <= 0:
                    del self._pending[key]

    def _admit(self, standing: Standing, keys: tuple[str, str], itself: int = 0) -> None:
        """429 when the address or the username is over its limit, counting the attempts ahead of this one
        that are still being checked as failures to be (else one address could start a whole burst before its
        first failure is counted)."""
        wait_s = standing.wait_s
        if wait_s is None and (standing.address_left <= self._pending[keys[0]] - itself
                               or standing.username_left <= self._pending[keys[1]] - itself):
            wait_s = PENDING_WAIT_S
        if wait_s is not None:
            raise HTTPException(429, f"too many failed logins; retry in {wait_s} s",
                                headers={"Retry-After": str(wait_s)})


def login_guard(connection: HTTPConnection) -> LoginGuard:
    guard: LoginGuard = connection.app.state.login_guard
    return guard
