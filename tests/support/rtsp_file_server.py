"""An RTSP server that serves a pre-encoded H.264 MP4 on many mounts, without re-encoding.

Runs under Debian's /usr/bin/python3 (python3-gi). The clip is demuxed once
into memory; each mount's pipeline pushes its access units through ``appsrc``
in a loop with timestamps that keep increasing across loops, paced to the
clock. ``--mounts N`` serves rtsp://127.0.0.1:PORT/s0 … s{N-1}; prints READY.
Used by benchmarks (one process serves 50 cameras for about 40 % of one core).
"""

import argparse
import itertools
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstApp, GstRtspServer  # noqa: E402,F401
from gst_rtsp import serve_until_terminated  # noqa: E402  (beside this script)


def load_access_units(path: str) -> tuple[list, Gst.Caps, int]:
    """([(pts ns from the clip start, bytes)], caps, clip duration in ns): the clip's byte-stream access units."""
    pipeline = Gst.parse_launch(
        f"filesrc location={path} ! qtdemux ! h264parse config-interval=-1 ! "
        "video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false"
    )
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    buffers, caps = [], None
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        caps = sample.get_caps()
        buffers.append(sample.get_buffer())
    pipeline.set_state(Gst.State.NULL)
    last = buffers[-1]
    duration = last.pts + (last.duration if last.duration != Gst.CLOCK_TIME_NONE else 40_000_000) - buffers[0].pts
    units = [(b.pts - buffers[0].pts, b.extract_dup(0, b.get_size())) for b in buffers]
    return units, caps, duration


class LoopingFactory(GstRtspServer.RTSPMediaFactory):
    """One mount: a pusher thread per media feeds the clip's access units at real-time pace.

    Pacing is done here with the monotonic clock and ``appsrc do-timestamp``
    stamps each buffer with the pipeline's running time as it is pushed, so no
    element downstream ever sees a late buffer (clock syncing in the pipeline
    dropped frames once several mounts ran).
    """

    def __init__(self, buffers: list, caps: Gst.Caps, duration_ns: int) -> None:
        super().__init__()
        self.buffers, self.caps, self.duration_ns = buffers, caps, duration_ns
        self.set_shared(True)
        self.set_launch(
            "( appsrc name=src is-live=true format=time do-timestamp=true block=true max-bytes=2000000 ! "
            "h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 )"
        )
        self.connect("media-configure", self._configure)

    def _configure(self, _factory, media) -> None:  # type: ignore[no-untyped-def]
        src = media.get_element().get_by_name_recurse_up("src")
        src.set_property("caps", self.caps)
        stop = threading.Event()
        media.connect("unprepared", lambda *_: stop.set())
        threading.Thread(target=self._push, args=(src, stop), daemon=True).start()

    def _push(self, src, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
        started = time.monotonic()
        for loop in itertools.count():
            for pts_ns, data in self.buffers:
                due = started + (loop * self.duration_ns + pts_ns) / 1e9
                if stop.wait(max(0.0, due - time.monotonic())):
                    return
                if src.emit("push-buffer", Gst.Buffer.new_wrapped(data)) != Gst.FlowReturn.OK:
                    return


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--mounts", type=int, default=1)
    args = parser.parse_args()
    Gst.init(None)
    buffers, caps, duration = load_access_units(args.file)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for n in range(args.mounts):
        mounts.add_factory(f"/s{n}", LoopingFactory(buffers, caps, duration))
    return serve_until_terminated(server)

if __name__ == "__main__":
    sys.exit(main())
