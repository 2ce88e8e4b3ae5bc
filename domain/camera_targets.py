"""Where a camera may point: the platform connects to whatever stream URL a city's manager types.

Without a rule a camera URL is a way to make the platform's servers connect to themselves, to the cloud's
metadata service or to the platform's own PostgreSQL, Redis, object store or Ray (SSRF), and the camera's
status would tell the caller what answered. So every address a camera's host resolves to is checked here:

- never: the unspecified and "this network" block (0.0.0.0/8, ::), multicast, broadcast, reserved blocks and
  the cloud metadata addresses;
- never: the platform's own service ports (``TargetPolicy.service_ports``), on any address;
- with an allow-list of camera networks (CIDRs, per deployment or per city): only addresses inside it — the one
  way to allow loopback or link-local cameras (tests, the demo, a lab);
- without one: any other address except loopback and link-local.

Users see one coarse reason (``REFUSED``) whatever the rule was, so refusals do not map the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import parse_qs, urlsplit

from domain.errors import InvalidCameraUrl

REFUSED = "camera address not allowed"

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# Cloud instance metadata: AWS/GCP/Azure/OpenStack (169.254.169.254), AWS over IPv6, Alibaba, Oracle's alias.
METADATA = frozenset(ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200",
                                                 "169.254.170.2"))
_NEVER = tuple(ip_network(n) for n in ("0.0.0.0/8", "255.255.255.255/32", "::/128"))

RTSP_DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322}


class TargetRefused(InvalidCameraUrl):
    """A camera URL points where the platform will not connect; the message is always ``REFUSED``."""

    def __init__(self) -> None:
        super().__init__(REFUSED)


@dataclass(frozen=True)
class TargetPolicy:
    """The camera networks a city may use (empty: any address not refused by default) and the ports the platform's
    own services listen on."""

    networks: tuple[Network, ...] = ()
    service_ports: frozenset[int] = frozenset()


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """CIDRs as networks; InvalidCameraUrl naming the bad one (host bits set counts as bad: say what you mean)."""
    networks: list[Network] = []
    for cidr in cidrs:
        try:
            networks.append(ip_network(cidr.strip(), strict=True))
        except ValueError:
            raise InvalidCameraUrl(f"not a network in CIDR notation: {cidr!r}") from None
    return tuple(networks)


def refusal(address: Address, port: int, policy: TargetPolicy) -> str | None:
    """None if a camera may be at ``address``:``port``, else the rule that refuses it (for logs and tests; users
    are told ``REFUSED``)."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if address in METADATA:
        return "cloud metadata"
    if address.is_unspecified or any(address in n for n in _NEVER if n.version == address.version):
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved and not address.is_loopback:  # Python counts ::1 in the reserved ::/8
        return "reserved"
    if port in policy.service_ports:
        return "platform service port"
    if policy.networks:
        if any(address in n for n in policy.networks if n.version == address.version):
            return None
        return "outside the camera networks"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    return None


def check_addresses(addresses: Iterable[Address], port: int, policy: TargetPolicy) -> None:
    """TargetRefused unless every address is allowed (a name resolving to one bad address is refused: the
    connection may go to any of them). No address at all is refused too."""
    seen = False
    for address in addresses:
        seen = True
        if refusal(address, port, policy) is not None:
            raise TargetRefused()
    if not seen:
        raise TargetRefused()


# The built-in test pattern (media/sources.py PatternSource): bounded so a URL cannot ask for an absurd encode.
PATTERN_LIMITS = {"w": (16, 3840), "h": (16, 2160), "fps": (1, 60), "bframes": (0, 3), "reset_every": (0, 1000)}


def check_test_pattern(url: str) -> None:
    """InvalidCameraUrl unless ``url`` is ``test://pattern`` with known, bounded parameters."""
    parts = urlsplit(url)
    if parts.netloc != "pattern" or parts.path not in ("", "/"):
        raise InvalidCameraUrl("a test camera is test://pattern?w=&h=&fps=")
    query = parse_qs(parts.query, keep_blank_values=True)
    for name, values in query.items():
        if name not in PATTERN_LIMITS:
            raise InvalidCameraUrl(f"test pattern: unknown parameter {name!r}")
        low, high = PATTERN_LIMITS[name]
        if len(values) != 1 or not values[0].isdigit() or not low <= int(values[0]) <= high:
            raise InvalidCameraUrl(f"test pattern: {name} must be an integer in {low}..{high}")


def host_and_port(public_url: str) -> tuple[str, int]:
    """The host and port an ``rtsp://``/``rtsps://`` URL connects to (the scheme's default port if none)."""
    parts = urlsplit(public_url)
    host = parts.hostname
    if not host:
        raise InvalidCameraUrl("stream URL has no host")
    return host, parts.port or RTSP_DEFAULT_PORTS.get(parts.scheme, 554)
