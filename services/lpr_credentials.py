"""Issuing a camera's LPR push credentials: a URL token for vendor pushes and an HMAC secret for our JSON.

Both are shown once, in the answer to the manager who issued them. PostgreSQL keeps the token's SHA-256 (a
push is looked up by it) and the secret sealed (it must be opened to verify a signature).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from uuid import UUID

import asyncpg

from domain.lpr.push_token import new_token, token_hash
from domain.sealing import Sealer, lpr_secret_context
from storage import lpr_events


@dataclass(frozen=True)
class IssuedCredentials:
    token: str
    secret: str


async def issue(pool: asyncpg.Pool, sealer: Sealer, camera_id: UUID,
                allowed_sources: list[IPv4Network | IPv6Network] | None) -> IssuedCredentials:
    """New credentials for the camera; the previous ones stop working (on other API replicas within their
    sender cache's TTL)."""
    issued = IssuedCredentials(new_token(), secrets.token_hex(32))
    await lpr_events.set_credentials(pool, camera_id, token_hash=token_hash(issued.token),
                                     sealed_secret=sealer.seal(issued.secret, lpr_secret_context(camera_id)),
                                     allowed_sources=allowed_sources)
    return issued
