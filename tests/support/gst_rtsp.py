"""Serving a GStreamer RTSP server until SIGTERM: shared by the test camera scripts.

Imported by scripts that run under Debian's /usr/bin/python3 (python3-gi).
"""

import signal
import sys

import gi

gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, GstRtspServer  # noqa: E402


def serve_until_terminated(server: GstRtspServer.RTSPServer) -> int:
    """Listen, print READY for the test that started us, run until SIGTERM/SIGINT."""
    if server.attach(None) == 0:
        print("cannot listen", file=sys.stderr, flush=True)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print("READY", flush=True)
    loop.run()
    return 0
