"""Who may push plate reads: a camera with issued LPR credentials, from an allowed address."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address
from uuid import UUID


@dataclass(frozen=True)
class LprSender:
    """A camera that may push reads: its city, its HMAC secret (sealed: opened only to verify a signature), its
    allow-list and the zone of its clock."""

    id: UUID
    tenant_id: UUID
    lpr_secret_sealed: str | None
    lpr_allowed_sources: list[IPv4Network | IPv6Network] | None
    time_zone: str


def source_allowed(address: str | None, allowed: list[IPv4Network | IPv6Network] | None) -> bool:
    """Whether a push from ``address`` is accepted; no allow-list accepts any address (the token decides)."""
    if not allowed:
        return True
    try:
        host = ip_address(address or "")
    except ValueError:
        return False
    return any(host in network for network in allowed)
