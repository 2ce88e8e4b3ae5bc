"""A city's camera networks (``tenants.camera_networks``): where its camera URLs may point; None: the default."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.camera_targets import Network


async def get(pool: asyncpg.Pool | asyncpg.Connection, tenant_id: UUID) -> tuple[Network, ...] | None:
    value = await pool.fetchval("SELECT camera_networks FROM tenants WHERE id = $1", tenant_id)
    return None if value is None else tuple(value)


async def set_networks(pool: asyncpg.Pool, tenant_id: UUID, networks: tuple[Network, ...] | None) -> bool:
    """Replace (None: back to the deployment's default); False if there is no such tenant."""
    done: str = await pool.execute("UPDATE tenants SET camera_networks = $2::cidr[] WHERE id = $1", tenant_id,
                                   None if networks is None else list(networks))
    return done == "UPDATE 1"
