"""Where a camera may point (domain/camera_targets.py): one table of address, port, allow-list → verdict."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from domain.camera_targets import (
    REFUSED,
    TargetPolicy,
    TargetRefused,
    check_addresses,
    check_test_pattern,
    parse_networks,
    refusal,
)
from domain.errors import InvalidCameraUrl

PORTS = frozenset({8000, 5432, 6379, 9000, 8265, 10001})
DEFAULT = TargetPolicy((), PORTS)
LAB = TargetPolicy(parse_networks(["127.0.0.0/8", "10.20.0.0/16", "fd00:1::/64"]), PORTS)
LINK_LOCAL_LAB = TargetPolicy(parse_networks(["169.254.0.0/16"]), PORTS)

TABLE: list[tuple[str, int, TargetPolicy, str | None]] = [
    # the deployment default: public and private cameras, nothing on this host or the link
    ("10.1.2.3", 554, DEFAULT, None),
    ("192.168.0.10", 554, DEFAULT, None),
    ("200.160.2.3", 8554, DEFAULT, None),
    ("2804:14c::1", 554, DEFAULT, None),
    ("127.0.0.1", 554, DEFAULT, "loopback"),
    ("127.9.9.9", 554, DEFAULT, "loopback"),
    ("::1", 554, DEFAULT, "loopback"),
    ("::ffff:127.0.0.1", 554, DEFAULT, "loopback"),
    ("169.254.10.10", 554, DEFAULT, "link-local"),
    ("fe80::1", 554, DEFAULT, "link-local"),
    ("169.254.169.254", 80, DEFAULT, "cloud metadata"),
    ("fd00:ec2::254", 80, DEFAULT, "cloud metadata"),
    ("0.0.0.0", 554, DEFAULT, "unspecified"),
    ("0.1.2.3", 554, DEFAULT, "unspecified"),
    ("::", 554, DEFAULT, "unspecified"),
    ("224.0.0.1", 554, DEFAULT, "multicast"),
    ("ff02::1", 554, DEFAULT, "multicast"),
    ("255.255.255.255", 554, DEFAULT, "unspecified"),
    ("240.0.0.1", 554, DEFAULT, "reserved"),
    ("10.1.2.3", 5432, DEFAULT, "platform service port"),
    ("200.160.2.3", 6379, DEFAULT, "platform service port"),
    # an allow-list: only its networks, loopback included when listed; never the platform's ports or metadata
    ("127.0.0.1", 554, LAB, None),
    ("::ffff:127.0.0.1", 554, LAB, None),
    ("10.20.3.4", 554, LAB, None),
    ("fd00:1::9", 554, LAB, None),
    ("10.21.0.1", 554, LAB, "outside the camera networks"),
    ("200.160.2.3", 554, LAB, "outside the camera networks"),
    ("::1", 554, LAB, "outside the camera networks"),
    ("127.0.0.1", 8000, LAB, "platform service port"),
    ("127.0.0.1", 5432, LAB, "platform service port"),
    ("127.0.0.1", 6379, LAB, "platform service port"),
    ("127.0.0.1", 9000, LAB, "platform service port"),
    ("127.0.0.1", 10001, LAB, "platform service port"),
    ("169.254.3.3", 554, LINK_LOCAL_LAB, None),
    ("169.254.169.254", 554, LINK_LOCAL_LAB, "cloud metadata"),
]


@pytest.mark.parametrize(("address", "port", "policy", "expected"), TABLE)
def test_each_address_and_port_gets_its_verdict(address: str, port: int, policy: TargetPolicy,
                                                expected: str | None) -> None:
    assert refusal(ip_address(address), port, policy) == expected


def test_a_name_is_as_safe_as_its_worst_address_and_the_reason_is_always_coarse() -> None:
    check_addresses([ip_address("10.1.2.3"), ip_address("10.1.2.4")], 554, DEFAULT)
    for addresses in ([ip_address("10.1.2.3"), ip_address("127.0.0.1")], []):
        with pytest.raises(TargetRefused) as refused:
            check_addresses(addresses, 554, DEFAULT)
        assert str(refused.value) == REFUSED
    assert issubclass(TargetRefused, InvalidCameraUrl), "the API answers 422"


def test_camera_networks_must_be_cidrs() -> None:
    with pytest.raises(InvalidCameraUrl, match="CIDR"):
        parse_networks(["10.0.0.1/8"])
    with pytest.raises(InvalidCameraUrl, match="CIDR"):
        parse_networks(["cameras"])


@pytest.mark.parametrize("url", ["test://pattern", "test://pattern?w=3840&h=2160&fps=60",
                                 "test://pattern?w=320&h=180&fps=10&bframes=2&reset_every=3"])
def test_bounded_test_patterns_are_allowed(url: str) -> None:
    check_test_pattern(url)


@pytest.mark.parametrize("url", ["test://pattern?w=7680&h=4320", "test://pattern?h=4000", "test://pattern?fps=120",
                                 "test://pattern?fps=0", "test://pattern?w=-5", "test://pattern?w=1e9",
                                 "test://pattern?bframes=16", "test://pattern?reset_every=99999",
                                 "test://pattern?seconds=3600", "test://pattern?w=320&w=640", "test://elsewhere",
                                 "test://pattern/../x"])
def test_absurd_test_patterns_are_refused(url: str) -> None:
    with pytest.raises(InvalidCameraUrl):
        check_test_pattern(url)
