"""An RTSP test camera: GStreamer's RTSP server serving live H.264 (and AAC).

Runs under Debian's /usr/bin/python3 (python3-gi lives there, not in the venv);
tests start it as a subprocess through ``tests.support.rtsp_camera``. Each
``--mount NAME[:KIND]`` serves a live encoded test pattern at
rtsp://127.0.0.1:PORT/NAME, KIND being ``h264`` (default), ``audio`` (H.264 +
AAC), ``bframes`` (H.264 with B-frames), ``sub`` (H.264 at half the width and
height: a camera's sub-stream) or ``mjpeg``. ``--auth USER:PASS``
requires RTSP Basic auth on every mount. It prints ``READY`` once it listens.
"""

import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer  # noqa: E402
from gst_rtsp import serve_until_terminated  # noqa: E402  (beside this script)


def launch_line(width: int, height: int, fps: int, gop: int, kind: str) -> str:
    if kind == "sub":
        width, height = width // 2, height // 2
    raw = f"videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate={fps}/1"
    if kind == "mjpeg":
        return f"( {raw} ! videoconvert ! video/x-raw,format=I420 ! jpegenc ! rtpjpegpay name=pay0 pt=26 )"
    encoder = (
        f"x264enc speed-preset=ultrafast bframes=2 b-adapt=false key-int-max={gop} bitrate=600"
        if kind == "bframes"
        else f"x264enc tune=zerolatency speed-preset=ultrafast bframes=0 key-int-max={gop} bitrate=600"
    )
    video = f"{raw} ! {encoder} ! video/x-h264,profile=main ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96"
    if kind != "audio":
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
    parser.add_argument("--auth", default=None, help="USER:PASS required on every mount")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    if args.auth:
        user, _, password = args.auth.partition(":")
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)
    mounts = server.get_mount_points()
    for spec in args.mount:
        name, _, kind = spec.partition(":")
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_line(args.width, args.height, args.fps, args.gop, kind or "h264"))
        factory.set_shared(True)
        if args.auth:
            factory.add_role_from_structure(Gst.Structure.from_string(
                "user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true")[0])
        mounts.add_factory("/" + name, factory)
    return serve_until_terminated(server)

if __name__ == "__main__":
    sys.exit(main())
