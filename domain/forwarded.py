"""Which address a request came from when our own reverse proxies may stand in front of the API.

``X-Forwarded-For`` is a list each proxy appends the address it saw to, so only its right-hand end was written
by proxies we run; anything to the left can be typed by the client. So the header is believed only when the
peer is one of the configured trusted proxies, and then the answer is the right-most address that is not a
trusted proxy (walking left past our own proxies). A per-camera allow-list (domain/lpr/senders.py) is then
checked against that address; a forged header from anyone else changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network

MAX_HOPS = 32  # addresses read from the header at most (it is client-controlled text)


def trusted_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """The ``trusted_proxies`` setting, parsed; a bad entry is refused at start with the entry named."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise ValueError(f"trusted_proxies: {cidr!r} is not an address or CIDR") from None
    return tuple(networks)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str | None:
    """The sender's address: the peer, unless the peer is a trusted proxy; then the right-most untrusted address
    of ``X-Forwarded-For`` (every header line, in order). A malformed entry where the walk stops yields None."""
    if peer is None or not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for line in forwarded_for for hop in line.split(",")][-MAX_HOPS:]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop if _parsed(hop) is not None else None
    return hops[0] if hops else peer  # only our proxies all the way: the request started at the first


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    parsed = _parsed(address)
    return parsed is not None and any(parsed in network for network in trusted)


def _parsed(address: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(address)
    except ValueError:
        return None
