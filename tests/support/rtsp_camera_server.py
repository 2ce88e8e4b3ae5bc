"""An RTSP test camera: GStreamer's RTSP server serving live H.264 (and AAC).

Runs under Debian's /usr/bin/python3 (python3-gi lives there, not in the venv);
tests start it as a subprocess through ``tests.support.rtsp_camera``. Each
``--mount NAME[:audio]`` serves a live encoded test pattern at
rtsp://127.0.0.1:PORT/NAME; it prints ``READY`` once it listens.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def launch_line(width: int, height: int, fps: int, gop: int, audio: bool) -> str:
    video = (
        f"videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},"
        f"framerate={fps}/1 ! x264enc tune=zerolatency speed-preset=ultrafast bframes=0 "
        f"key-int-max={gop} bitrate=600 ! video/x-h264,profile=main ! "
        "h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96"
    )
    if not audio:
        return f"( {video} )"
    sound = (
        "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! "
        "audio/x-raw,rate=48000,channels=1 ! avenc_aac bitrate=64000 ! aacparse ! "
        "rtpmp4gpay name=pay1 pt=97"
    )
    return f"( {video} {sound} )"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", action="append", required=True)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--gop", type=int, default=25)
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for spec in args.mount:
        name, _, kind = spec.partition(":")
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_line(args.width, args.height, args.fps, args.gop, kind == "audio"))
        factory.set_shared(True)
        mounts.add_factory("/" + name, factory)
    if server.attach(None) == 0:
        print("cannot listen", file=sys.stderr, flush=True)
        return 1
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print("READY", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
