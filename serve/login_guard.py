"""What stands between ``POST /auth/login`` and Argon2id: the failure limits first, then a bounded password slot.

Order matters. A refused address or username costs one Redis round trip and no hashing (429 + Retry-After);
only then does the attempt wait for one of the replica's few password slots (serve/password_work.py), and once
it has one the limits are read again, because the attempts ahead of it in line may have used up the window.
Unknown usernames are checked against a dummy hash (serve/passwords.py): the same work and the same answer as a
wrong password, so neither timing nor status tells which users exist. docs/security/login.md says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from fastapi import HTTPException
from starlette.requests import HTTPConnection

from domain.settings import Settings
from domain.user import User
from serve.login_limits import LoginLimits
from serve.password_work import PasswordWork
from storage import users


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

    @classmethod
    def for_settings(cls, settings: Settings, passwords: PasswordWork) -> LoginGuard:
        return cls(LoginLimits.for_bus(settings.bus_url, settings.login_failures_per_minute), passwords)

    async def authenticate(self, pool: asyncpg.Pool, address: str, username: str, password: str) -> User:
        """The user whose password this is; else 401 (and one more failure for the address and the username),
        429 while either has failed too often, 503 while too many checks are in line."""
        await self._refuse_if_limited(address, username)
        async with self.passwords.slot():
            await self._refuse_if_limited(address, username)
            found = await users.credentials(pool, username)
            valid = await self.passwords.verify(found[1] if found else None, password)
        if found is None or not valid:
            await self.limits.failed(address, username)
            raise HTTPException(401, "invalid username or password")
        await self.limits.succeeded(username)
        return found[0]

    async def close(self) -> None:
        await self.limits.close()

    async def _refuse_if_limited(self, address: str, username: str) -> None:
        wait_s = await self.limits.wait_s(address, username)
        if wait_s is not None:
            raise HTTPException(429, f"too many failed logins; retry in {wait_s} s",
                                headers={"Retry-After": str(wait_s)})


def login_guard(connection: HTTPConnection) -> LoginGuard:
    guard: LoginGuard = connection.app.state.login_guard
    return guard
