"""Whether a token's session still stands: asked on every authenticated request and periodically by open sockets.

Each API replica keeps what it read for ``ttl_s`` seconds (storage/ttl_cache.py),
so at load a check costs no query per request, and a session ended on another
replica is refused here within ``ttl_s``. A session ended through this replica
is refused at once (``forget_all``).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.session import Bearer, Session, honours
from storage import sessions
from storage.ttl_cache import TtlCache

SESSION_REVOKED = "session revoked"


class SessionCheck:
    def __init__(self, pool: asyncpg.Pool, *, ttl_s: float, max_entries: int = 20_000) -> None:
        async def load(session_id: UUID) -> Session | None:
            return await sessions.live(pool, session_id)

        self._live: TtlCache[UUID, Session | None] = TtlCache(load, ttl_s=ttl_s, max_entries=max_entries)
        self.ttl_s = ttl_s

    async def holds(self, bearer: Bearer) -> bool:
        live = await self._live.get(bearer.session_id)
        return honours(live, user_id=bearer.principal.user_id, generation=bearer.generation)

    def forget_all(self) -> None:
        """Forget what was read: call after ending sessions here, so this replica refuses them at once."""
        self._live.clear()
