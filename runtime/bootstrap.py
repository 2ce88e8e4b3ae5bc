"""First-start data: the first admin and the demo city with test-pattern cameras."""

from __future__ import annotations

import secrets

import asyncpg

from domain.rbac import Role
from domain.stream_url import parse_stream_url
from serve.passwords import hash_password
from storage import cameras, tenants, users

DEMO_TENANT = "Demo City"
DEMO_SOURCE = "test://pattern?w=640&h=360&fps=10"
DEMO_SUBSTREAM = "test://pattern?w=320&h=180&fps=10"  # what the demo's mosaic tiles watch


async def ensure_admin(pool: asyncpg.Pool, username: str, password: str | None) -> str | None:
    """Create the first admin if there is none; return its password if it was generated or set now."""
    if await users.any_admin(pool):
        return None
    password = password or secrets.token_urlsafe(12)
    await users.create(pool, username=username, password_hash=hash_password(password),
                       role=Role.ADMIN.value, tenant_id=None)
    return password


async def ensure_demo_city(pool: asyncpg.Pool, camera_count: int) -> str:
    """The demo tenant with ``camera_count`` enabled test-pattern cameras (demo-1 … demo-N)."""
    tenant = await tenants.get_by_name(pool, DEMO_TENANT) or await tenants.create(pool, DEMO_TENANT)
    existing = {c.name: c for c in await cameras.list_for_tenant(pool, tenant.id)}
    for i in range(1, camera_count + 1):
        name = f"demo-{i}"
        if name not in existing:
            await cameras.create(pool, tenant_id=tenant.id, name=name, vendor="generic",
                                 stream=parse_stream_url(DEMO_SOURCE), substream=parse_stream_url(DEMO_SUBSTREAM))
        elif existing[name].substream is None and existing[name].stream.public_url == DEMO_SOURCE:
            await cameras.update(pool, tenant.id, existing[name].id, {"substream_url": DEMO_SUBSTREAM})
    return str(tenant.id)
