"""Checking where a camera URL points before it is stored (domain/camera_targets.py is the rule).

Host names are resolved here and every address is checked: a name is only as safe as the worst address it
resolves to. Resolution is bounded in time and in answers. (The recorder resolves the name again when it connects; a name whose
answers change in between — DNS rebinding — is what ``camera_networks`` allow-lists close.)
"""

from __future__ import annotations

import asyncio
import logging
import socket
from ipaddress import ip_address
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg

from domain.camera_targets import (
    Address,
    TargetPolicy,
    TargetRefused,
    check_addresses,
    check_test_pattern,
    host_and_port,
    parse_networks,
    refusal,
)
from domain.settings import Settings
from domain.stream_url import StreamUrl
from storage import camera_networks

log = logging.getLogger(__name__)

RESOLVE_TIMEOUT_S = 3.0
MAX_ADDRESSES = 32
# Ray's fixed defaults: GCS (also Redis's port), dashboard, client server, dashboard agent.
RAY_PORTS = frozenset({6379, 8265, 10001, 52365})


def service_ports(settings: Settings) -> frozenset[int]:
    """The ports the platform's own services listen on: the API, PostgreSQL, Redis, the object store, the edge's
    Control API and Ray's."""
    ports = {settings.api_port, 5432, *RAY_PORTS}
    for url in (settings.database_url, settings.bus_url, settings.object_store_url, settings.edge_api_url or ""):
        try:
            port = urlsplit(url).port
        except ValueError:
            continue
        if port:
            ports.add(port)
    return frozenset(ports)


async def policy_for(pool: asyncpg.Pool, settings: Settings, tenant_id: UUID) -> TargetPolicy:
    """The city's camera networks if it has its own, else the deployment's."""
    own = await camera_networks.get(pool, tenant_id)
    networks = own if own is not None else parse_networks(settings.camera_networks)
    return TargetPolicy(networks, service_ports(settings))


async def check_target(pool: asyncpg.Pool, settings: Settings, tenant_id: UUID, stream: StreamUrl) -> None:
    """TargetRefused (always the same coarse message) unless the camera may be opened; InvalidCameraUrl for a
    test pattern out of bounds."""
    scheme = urlsplit(stream.public_url).scheme
    if scheme == "test":  # the built-in pattern: no network target, only its size and rate to bound
        check_test_pattern(stream.public_url)
        return
    host, port = host_and_port(stream.public_url)
    policy = await policy_for(pool, settings, tenant_id)
    addresses = await _resolve(host, port)
    for address in addresses:
        if (why := refusal(address, port, policy)) is not None:
            log.info("camera target refused for tenant %s: %s (%s)", tenant_id, why, scheme)
            break
    check_addresses(addresses, port, policy)


async def _resolve(host: str, port: int) -> list[Address]:
    try:
        return [ip_address(host.split("%", 1)[0])]  # a literal (a zone index is dropped for the check)
    except ValueError:
        pass
    try:
        found = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S)
    except (OSError, TimeoutError, UnicodeError):
        raise TargetRefused() from None  # a name that does not resolve is not a camera we can check
    if len(found) > MAX_ADDRESSES:
        raise TargetRefused()
    return [ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]
