"""The embedded default database: a real PostgreSQL from pip (``pgserver``).

It runs on a Unix socket under the data directory, so a fresh laptop needs no
database setup. It stops when the process that started it exits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        import pgserver  # imported lazily: only the embedded default needs it

        data_dir.mkdir(parents=True, exist_ok=True)
        self._server: Any = pgserver.get_server(data_dir, cleanup_mode="stop")

    @property
    def dsn(self) -> str:
        uri: str = self._server.get_uri()
        return uri

    def stop(self) -> None:
        self._server.cleanup()
