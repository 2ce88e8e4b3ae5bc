"""HAProxy is given ``option forwardfor`` (its configuration as Ray renders it has none), and its address is the
one trusted to have written the header; its status listeners stay on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.ingress import FORWARD_FOR, haproxy_address, with_forward_for, with_status_on_loopback
from runtime.forwarding_haproxy import config_path, patch_config

RENDERED = """global
    maxconn 1000
defaults
    mode http
    option httplog
frontend http_frontend
    bind 127.0.0.1:8000
"""


def test_the_option_goes_into_the_defaults_section_once() -> None:
    patched = with_forward_for(RENDERED)
    assert patched.splitlines()[2:4] == ["defaults", f"    {FORWARD_FOR}"]
    assert with_forward_for(patched) == patched, "a reload of the same file adds nothing"
    assert patched.replace(f"    {FORWARD_FOR}\n", "") == RENDERED, "nothing else changes"


def test_a_configuration_without_defaults_is_refused_not_passed_through_unprotected() -> None:
    with pytest.raises(ValueError, match="defaults"):
        with_forward_for("frontend x\n    bind :80\n")


def test_the_wrapper_finds_the_file_serve_names_and_patches_it_in_place(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text(RENDERED)
    assert config_path(["-db", "-f", str(config), "-sf", "123"]) == config
    assert config_path(["-v"]) is None
    patch_config(config)
    assert FORWARD_FOR in config.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["haproxy.cfg"], "no scratch file left"


def test_the_status_listeners_bound_on_every_interface_move_to_loopback_and_the_api_keeps_its_address() -> None:
    rendered = ("frontend prometheus\n    bind :9101\n    mode http\nfrontend http_frontend\n    bind *:8000\n"
                "listen stats\n  bind *:8404\n  stats enable\n")
    assert with_status_on_loopback(rendered).splitlines() == [
        "frontend prometheus", "    bind 127.0.0.1:9101", "    mode http",
        "frontend http_frontend", "    bind *:8000",  # how Serve renders --host 0.0.0.0: every interface, kept
        "listen stats", "  bind 127.0.0.1:8404", "  stats enable"]


def test_haproxy_connects_from_the_node_address_or_loopback() -> None:
    assert haproxy_address("10.0.0.7") == "10.0.0.7"
    assert haproxy_address("0.0.0.0") == "127.0.0.1"
