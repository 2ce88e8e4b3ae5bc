"""The embedded default database: a real PostgreSQL from pip (``pgserver``).

It runs on a Unix socket under the data directory, so a fresh laptop needs no
database setup. It stops when the process that started it stops in order; a
process killed outright leaves it running, and the next start reuses it.

pgserver stops the server only when the last process on its list of users
exits, and a killed process never leaves that list. Only the instance holding
the var dir's lock (runtime/instance.py) uses this server, so whoever else is
listed at start is a crashed predecessor: the list is cleared then, or an
orderly stop after a crash would leave PostgreSQL running forever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_USERS_FILE = ".handle_pids.json"  # pgserver's list of the processes using the server


class EmbeddedPostgres:
    """Start (or reuse) the embedded server; call only while holding the var dir's instance lock."""

    def __init__(self, data_dir: Path) -> None:
        import pgserver  # imported lazily: only the embedded default needs it

        data_dir.mkdir(parents=True, exist_ok=True)
        users = data_dir / _USERS_FILE
        if users.exists():
            users.write_text("[]")
        self._server: Any = pgserver.get_server(data_dir, cleanup_mode="stop")

    @property
    def dsn(self) -> str:
        uri: str = self._server.get_uri()
        return uri

    def stop(self) -> None:
        self._server.cleanup()
