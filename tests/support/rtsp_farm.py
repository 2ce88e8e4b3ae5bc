"""A lean RTSP camera farm: one asyncio process replays pre-packetized H.264 to many sessions.

GStreamer's RTSP server encodes live and costs about 0.8 % of a core per
client, so it cannot stand in for hundreds of cameras on a small box. This
server encodes a short clip once (ffmpeg, libx264), cuts it into RTP payloads
once (RFC 6184: single NAL units, FU-A for large ones) and loops it on one
shared timeline whose RTP timestamps keep increasing, like a live camera's.
Every tick builds the interleaved frames of one access unit once and writes
the same bytes to every session of every mount (RTP over the RTSP TCP
connection, RFC 2326 §10.12), so a client costs one ``write`` per frame.

It speaks what FFmpeg's RTSP client asks of a camera: OPTIONS, DESCRIBE (SDP
with ``sprop-parameter-sets``), SETUP with interleaved TCP transport, PLAY,
GET_PARAMETER/SET_PARAMETER keep-alives and TEARDOWN; optional Basic auth;
404 for a path it does not serve. Like a live camera, a new session gets the
frame being sent now (FFmpeg's recorder starts at the next keyframe), and a
timeline held up (SIGSTOP) skips ahead instead of bursting.

Run: ``python -m tests.support.rtsp_farm --port P --mount cam --mounts 100``
(``--mounts N`` adds s0 … s{N-1}); it prints ``READY`` once listening and then
reads commands on stdin, one a line: ``pause NAME`` / ``resume NAME`` (the
sessions of a path stay open and get nothing: a stall), ``drop NAME`` (close
them), ``stats`` (one JSON line: the timeline's skips and lateness, below).

A skip drops video for every session then playing: each is counted (in
total, per mount) and, with ``--log FILE``, logged with its UTC time, how late
the timeline was, the frames skipped and the sessions it hit, so a run can
tell the farm's holes from the recorder's. ``stats`` also gives the largest
lateness seen (frames sent late but under the skip threshold go out back to
back, a burst a real camera would not make). ``RtspFarm`` starts it from tests with the interface of the GStreamer
test camera (``tests/support/rtsp_camera.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import json
import secrets
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

RTP_CLOCK = 90_000
MAX_PAYLOAD = 1400  # RTP payload bytes per packet: a NAL unit larger than this is cut into FU-A fragments
WRITE_BACKLOG = 4 * 1024**2  # bytes queued for a client that does not read before it is dropped
LATE_RESYNC_S = 1.0  # a timeline this late (the process was stopped) jumps to now


@dataclass(frozen=True)
class AccessUnit:
    """One frame: its RTP payloads (the last carries the marker bit) at a 90 kHz offset into the clip."""

    offset: int
    payloads: tuple[bytes, ...]
    keyframe: bool


@dataclass(frozen=True)
class Clip:
    width: int
    height: int
    fps: int
    units: tuple[AccessUnit, ...]
    span: int  # 90 kHz ticks of one loop
    sps: bytes
    pps: bytes

    def sdp(self, host: str) -> str:
        sprop = ",".join(base64.b64encode(p).decode() for p in (self.sps, self.pps))
        return (
            "v=0\r\n"
            f"o=- 0 0 IN IP4 {host}\r\n"
            "s=GT-Vision test farm\r\n"
            "c=IN IP4 0.0.0.0\r\n"
            "t=0 0\r\n"
            "a=control:*\r\n"
            "m=video 0 RTP/AVP 96\r\n"
            "a=rtpmap:96 H264/90000\r\n"
            f"a=fmtp:96 packetization-mode=1;profile-level-id={self.sps[1:4].hex()};sprop-parameter-sets={sprop}\r\n"
            f"a=framerate:{self.fps}\r\n"
            "a=control:stream=0\r\n"
        )


def encode_clip(path: Path, width: int, height: int, fps: int, gop: int, seconds: int, kbps: int) -> None:
    """A test-pattern H.264 clip (no B-frames, a keyframe every ``gop`` frames), made once with ffmpeg."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi",
         "-i", f"testsrc2=size={width}x{height}:rate={fps}", "-t", str(seconds), "-c:v", "libx264",
         "-preset", "veryfast", "-tune", "zerolatency", "-g", str(gop), "-keyint_min", str(gop),
         "-sc_threshold", "0", "-bf", "0", "-b:v", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{kbps}k",
         "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=300,
    )


def packetize(nal: bytes) -> list[bytes]:
    """RTP payloads for one NAL unit: itself when it fits, else FU-A fragments (RFC 6184 §5.8)."""
    if len(nal) <= MAX_PAYLOAD:
        return [nal]
    indicator = (nal[0] & 0xE0) | 28
    kind = nal[0] & 0x1F
    body = nal[1:]
    step = MAX_PAYLOAD - 2
    pieces = []
    for start in range(0, len(body), step):
        header = kind | (0x80 if start == 0 else 0) | (0x40 if start + step >= len(body) else 0)
        pieces.append(bytes((indicator, header)) + body[start:start + step])
    return pieces


def _parameter_sets(avcc: bytes) -> tuple[bytes, bytes, int]:
    """(SPS, PPS, NAL length size) from an avcC record."""
    length_size = (avcc[4] & 3) + 1
    count, at = avcc[5] & 31, 6
    sps: list[bytes] = []
    for _ in range(count):
        (size,) = struct.unpack_from(">H", avcc, at)
        sps.append(avcc[at + 2:at + 2 + size])
        at += 2 + size
    count, at = avcc[at], at + 1
    (size,) = struct.unpack_from(">H", avcc, at)
    return sps[0], avcc[at + 2:at + 2 + size], length_size


def load_clip(path: Path, fps: int) -> Clip:
    """Demux the clip once and cut every access unit into RTP payloads."""
    import av  # the venv's PyAV; imported here so the module's other users need not load FFmpeg

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        sps, pps, length_size = _parameter_sets(bytes(stream.codec_context.extradata or b""))
        tb = stream.time_base
        assert tb is not None
        units = []
        first: int | None = None
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            first = packet.pts if first is None else first
            data, at, payloads = bytes(packet), 0, []
            while at + length_size <= len(data):
                size = int.from_bytes(data[at:at + length_size], "big")
                payloads += packetize(data[at + length_size:at + length_size + size])
                at += length_size + size
            units.append(AccessUnit(round((packet.pts - first) * tb * RTP_CLOCK), tuple(payloads),
                                    bool(packet.is_keyframe)))
        width, height = stream.codec_context.width, stream.codec_context.height
    return Clip(width, height, fps, tuple(units), len(units) * RTP_CLOCK // fps, sps, pps)


@dataclass(eq=False)
class Session:
    writer: asyncio.StreamWriter
    path: str
    channel: int = 0
    playing: bool = False
    skips: int = 0  # timeline skips while this session played: each lost it about LATE_RESYNC_S of video
    id: str = field(default_factory=lambda: secrets.token_hex(8))


@dataclass
class Skip:
    """The timeline was ``late_s`` behind when it jumped ``frames`` ahead, at ``at`` (UTC), for ``sessions``."""

    at: str
    late_s: float
    frames: int
    sessions: int


class Farm:
    """The shared timeline and the sessions it feeds."""

    def __init__(self, clip: Clip, mounts: set[str], auth: tuple[str, str] | None,
                 log: TextIO | None = None) -> None:
        self.clip = clip
        self.log = log
        self.skips: list[Skip] = []
        self.skips_by_mount: dict[str, int] = {}
        self.late_max_s = 0.0  # the largest lateness seen (a skip's included)
        self.late_frames = 0  # frames sent more than one frame interval late (a burst)
        self.mounts = mounts
        self.paused: set[str] = set()
        self._auth = None if auth is None else "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        self.sessions: dict[str, Session] = {}
        self._seq = 0
        self._ssrc = secrets.randbits(32)

    # --- the timeline -------------------------------------------------------------

    async def play(self) -> None:
        """Send frame n at start + n / fps to every playing session; never bursts to catch up."""
        interval = 1 / self.clip.fps
        count = len(self.clip.units)
        started, n = time.monotonic(), 0
        while True:
            delay = started + n * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.late_max_s = max(self.late_max_s, -delay)
                if -delay > interval:
                    self.late_frames += 1
                if -delay > LATE_RESYNC_S:  # stopped (SIGSTOP) or starved: live cameras skip, they do not burst
                    ahead = int((time.monotonic() - started) / interval)
                    self._skipped(-delay, ahead - n)
                    n = ahead
            unit = self.clip.units[n % count]
            timestamp = (n // count * self.clip.span + unit.offset) & 0xFFFFFFFF
            frames: dict[int, bytes] = {}
            for session in list(self.sessions.values()):
                if not session.playing or session.path in self.paused:
                    continue
                data = frames.get(session.channel)
                if data is None:
                    data = frames[session.channel] = self._frames(unit, timestamp, session.channel)
                if session.writer.transport.get_write_buffer_size() > WRITE_BACKLOG:
                    self.close(session)  # a client that stopped reading: a camera would drop it too
                    continue
                session.writer.write(data)
            if frames:
                self._seq += len(unit.payloads)
            n += 1

    def _skipped(self, late_s: float, frames: int) -> None:
        """Count (and log) a skip of the timeline: every playing session loses ``frames`` frames."""
        hit = [s for s in self.sessions.values() if s.playing and s.path not in self.paused]
        for session in hit:
            session.skips += 1
            self.skips_by_mount[session.path] = self.skips_by_mount.get(session.path, 0) + 1
        skip = Skip(datetime.now(UTC).isoformat(timespec="milliseconds"), round(late_s, 3), frames, len(hit))
        self.skips.append(skip)
        if self.log is not None:
            mounts = " ".join(sorted(s.path for s in hit))
            print(f"{skip.at} SKIP late_s={skip.late_s} frames={frames} sessions={len(hit)} mounts={mounts}",
                  file=self.log, flush=True)

    def stats(self) -> dict[str, Any]:
        """The skips so far (each with its time), per mount, and the largest lateness seen."""
        return {"skips": len(self.skips), "skipped_frames": sum(s.frames for s in self.skips),
                "late_max_s": round(self.late_max_s, 3), "late_frames": self.late_frames,
                "sessions": len(self.sessions), "events": [vars(s) for s in self.skips[-1000:]],
                "skips_by_mount": dict(sorted(self.skips_by_mount.items()))}

    def _frames(self, unit: AccessUnit, timestamp: int, channel: int) -> bytes:
        out = bytearray()
        last = len(unit.payloads) - 1
        for i, payload in enumerate(unit.payloads):
            out += struct.pack(">cBHBBHII", b"$", channel, 12 + len(payload), 0x80,
                               96 | (0x80 if i == last else 0), (self._seq + i) & 0xFFFF, timestamp, self._ssrc)
            out += payload
        return bytes(out)

    def close(self, session: Session) -> None:
        self.sessions.pop(session.id, None)
        session.writer.close()

    def drop(self, path: str) -> None:
        for session in [s for s in self.sessions.values() if s.path == path]:
            self.close(session)

    # --- RTSP -------------------------------------------------------------------------

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        owned: list[Session] = []
        try:
            while True:
                first = await reader.readexactly(1)
                if first == b"$":  # the client's RTCP, interleaved: read and ignore
                    _, size = struct.unpack(">BH", await reader.readexactly(3))
                    await reader.readexactly(size)
                    continue
                head = first + await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, url, _ = [*lines[0].split(" "), "", ""][:3]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                if size := int(headers.get("content-length", "0") or 0):
                    await reader.readexactly(size)
                writer.write(self._answer(method, url, headers, writer, owned))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            for session in owned:
                self.sessions.pop(session.id, None)
            writer.close()

    def _answer(self, method: str, url: str, headers: dict[str, str], writer: asyncio.StreamWriter,
                owned: list[Session]) -> bytes:
        cseq = headers.get("cseq", "0")
        if method == "OPTIONS":
            return _response(cseq, 200, {"Public": "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"})
        if self._auth is not None and headers.get("authorization") != self._auth:
            return _response(cseq, 401, {"WWW-Authenticate": 'Basic realm="GT-Vision test farm"'})
        path = urlsplit(url).path.strip("/")
        mount = path.rsplit("/stream=", 1)[0]
        if method in ("GET_PARAMETER", "SET_PARAMETER"):
            return _response(cseq, 200, {})
        if mount not in self.mounts and method != "TEARDOWN":
            return _response(cseq, 404, {})
        if method == "DESCRIBE":
            sdp = self.clip.sdp("127.0.0.1").encode()
            return _response(cseq, 200, {"Content-Base": f"{url.rstrip('/')}/", "Content-Type": "application/sdp"},
                             sdp)
        session = self.sessions.get(headers.get("session", "").split(";")[0])
        if method == "SETUP":
            transport = headers.get("transport", "")
            if "interleaved=" not in transport:
                return _response(cseq, 461, {})  # Unsupported Transport: TCP only
            channel = int(transport.split("interleaved=")[1].split("-")[0].split(";")[0])
            session = Session(writer, mount, channel)
            self.sessions[session.id] = session
            owned.append(session)
            return _response(cseq, 200, {"Session": f"{session.id};timeout=60",
                                         "Transport": f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}"})
        if session is None:
            return _response(cseq, 454, {})  # Session Not Found
        if method == "PLAY":
            session.playing = True
            return _response(cseq, 200, {"Session": session.id, "Range": "npt=0.000-"})
        if method == "PAUSE":
            session.playing = False
            return _response(cseq, 200, {"Session": session.id})
        if method == "TEARDOWN":
            self.sessions.pop(session.id, None)
            return _response(cseq, 200, {"Session": session.id})
        return _response(cseq, 405, {})

    async def commands(self) -> None:
        """pause / resume / drop NAME and stats, one a line on stdin, until stdin closes."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            verb, _, name = line.decode().strip().partition(" ")
            if verb == "pause":
                self.paused.add(name)
            elif verb == "resume":
                self.paused.discard(name)
            elif verb == "drop":
                self.drop(name)
            elif verb == "stats":
                print(json.dumps(self.stats()), flush=True)
            print("OK", flush=True)


_REASONS = {200: "OK", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
            454: "Session Not Found", 461: "Unsupported Transport"}


def _response(cseq: str, status: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"RTSP/1.0 {status} {_REASONS[status]}", f"CSeq: {cseq}", "Server: gtvision-test-farm"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@functools.lru_cache(maxsize=4)
def clip_file(width: int, height: int, fps: int, gop: int, seconds: int, kbps: int) -> Path:
    """The encoded clip for these parameters, made once per machine (kept in the temp dir)."""
    path = Path(tempfile.gettempdir()) / f"gtv-farm-{width}x{height}-{fps}-{gop}-{seconds}-{kbps}.mp4"
    if not path.exists():
        partial = path.with_suffix(f".{secrets.token_hex(4)}.part.mp4")
        encode_clip(partial, width, height, fps, gop, seconds, kbps)
        partial.rename(path)
    return path


async def main_async(args: argparse.Namespace, log: TextIO | None = None) -> None:
    clip = load_clip(clip_file(args.width, args.height, args.fps, args.gop, args.seconds, args.kbps), args.fps)
    mounts = set(args.mount) | {f"s{n}" for n in range(args.mounts)}
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    farm = Farm(clip, mounts, auth, log)  # type: ignore[arg-type]
    server = await asyncio.start_server(farm.serve, "127.0.0.1", args.port, backlog=1024)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    print("READY", flush=True)
    tasks = [asyncio.create_task(farm.play()), asyncio.create_task(farm.commands())]
    await done.wait()
    for task in tasks:
        task.cancel()
    server.close()
    for session in list(farm.sessions.values()):
        farm.close(session)
    if log is not None:
        print(f"{datetime.now(UTC).isoformat(timespec='milliseconds')} STOP {json.dumps(farm.stats())}", file=log)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", action="append", default=[])
    parser.add_argument("--mounts", type=int, default=0, help="also serve s0 … s{N-1}")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--gop", type=int, default=25)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--kbps", type=int, default=600)
    parser.add_argument("--auth", default=None, help="USER:PASS required (Basic) on every path")
    parser.add_argument("--log", default=None, help="append a line per timeline skip (and the stats at exit) here")
    args = parser.parse_args()
    if args.log is None:
        asyncio.run(main_async(args))
    else:
        with open(args.log, "a", buffering=1) as log:  # line-buffered: a skip is on disk when it is logged
            asyncio.run(main_async(args, log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
