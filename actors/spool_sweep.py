"""A node's spool sweep: a one-off Ray task pinned to a node, storing the spool left by cameras moved elsewhere.

The Fleet runs one on each camera node it sees for the first time — a node that joined, or a lost node that came
back (Ray gives it a new node id) with its disk — and again while the last one failed. The work is
services/spooled_chunks.py; this only opens what it needs on that node.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from domain.settings import Settings
from services.spooled_chunks import store_leftovers
from storage.db import create_pool
from storage.objects import open_object_store_for
from storage.spool import node_spool_root


def sweep_node_spool(settings: Settings) -> dict[str, Any]:
    """Store this node's leftover spool (Leftovers as a dict, plus the node's spool root)."""
    root = node_spool_root(settings.spool_dir)

    async def sweep() -> dict[str, Any]:
        pool = await create_pool(settings.database_url, min_size=1, max_size=1)
        try:
            store = await asyncio.to_thread(open_object_store_for, settings)
            return {**asdict(await store_leftovers(root, store, pool)), "spool_root": str(root)}
        finally:
            await pool.close()

    return asyncio.run(sweep())
