"""Packet sources: an RTSP camera, or the built-in test pattern.

Both hand the recorder demuxed packets and the input streams they belong to,
so the very same recording path serves real cameras and demo cameras.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import av
import numpy as np

from domain.camera_state import ErrorReason
from domain.errors import InvalidCameraUrl
from domain.redaction import redact
from domain.stream_url import parse_stream_url
from media.lean_demux import LeanDemuxer, RawPacket, raw_packet

log = logging.getLogger(__name__)

RECORDABLE_VIDEO = {"h264", "hevc"}
RECORDABLE_AUDIO = {"aac", "mp3", "opus", "alac"}


class SourceError(Exception):
    """A source could not be opened or read; ``reason`` classifies why.

    The only error that leaves a source: its ``detail`` is redacted (no URL userinfo, no password), because it
    becomes the camera's status detail, its status history, a ``camera.status`` event and log lines.
    """

    def __init__(self, reason: ErrorReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class PacketSource(Protocol):
    video: av.video.stream.VideoStream
    audio: av.audio.stream.AudioStream | None

    def packets(self, stop: threading.Event) -> Iterator[RawPacket]: ...

    def close(self) -> None: ...


def open_source(url: str, *, timeout_s: float = 5.0, stall_s: float = 5.0,
                batch_s: Callable[[], float] = lambda: 0.0) -> PacketSource:
    """Open ``url`` (``rtsp://`` or ``test://pattern?...``); raises SourceError.

    ``timeout_s`` bounds opening; a stream silent for about ``stall_s`` ends the read. ``batch_s``: how long a
    camera's packets may gather before they are handed on, asked before each batch (0: each as it arrives).
    """
    if url.startswith("test://"):
        return PatternSource.from_url(url)
    return RtspSource(url, timeout_s, stall_s, batch_s)


def classify_error(exc: BaseException) -> ErrorReason:
    """Map an FFmpeg/PyAV failure to the reason an operator can act on."""
    if isinstance(exc, SourceError):
        return exc.reason
    text = _own_words(exc)
    if isinstance(exc, av.error.HTTPUnauthorizedError) or "401" in text or "unauthorized" in text:
        return ErrorReason.UNAUTHORIZED
    if isinstance(exc, av.error.HTTPNotFoundError) or "404" in text or "not found" in text:
        return ErrorReason.NOT_FOUND
    if isinstance(exc, (av.error.ConnectionRefusedError, ConnectionError)) or "refused" in text:
        return ErrorReason.UNREACHABLE
    if isinstance(exc, (TimeoutError, av.error.ExitError)) or "timed out" in text:
        return ErrorReason.TIMEOUT
    if isinstance(exc, av.error.InvalidDataError):
        return ErrorReason.BAD_STREAM
    if isinstance(exc, OSError):
        return ErrorReason.UNREACHABLE
    return ErrorReason.BAD_STREAM


def _own_words(exc: BaseException) -> str:
    """The error's message without the URL PyAV appends to it: a camera on port 40123 (or a path with 404 in it)
    must not read as "401 unauthorized" — seen on the test camera, whose refused connection became unauthorized."""
    text = str(exc)
    filename = getattr(exc, "filename", None)
    if filename:
        text = text.replace(repr(filename), "").replace(str(filename), "")
    return _URL.sub("", text).lower()


_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


def _pick_streams(
    container: av.container.InputContainer,
) -> tuple[av.video.stream.VideoStream, av.audio.stream.AudioStream | None]:
    if not container.streams.video:
        raise SourceError(ErrorReason.BAD_STREAM, "the stream has no video track")
    video = container.streams.video[0]
    if video.codec_context.name not in RECORDABLE_VIDEO:
        raise SourceError(
            ErrorReason.UNSUPPORTED_CODEC,
            f"video codec {video.codec_context.name} cannot be recorded without transcoding",
        )
    audio = next((a for a in container.streams.audio if a.codec_context.name in RECORDABLE_AUDIO), None)
    return video, audio


class RtspSource:
    """An RTSP camera over TCP, demuxed by FFmpeg with open and read timeouts."""

    def __init__(self, url: str, timeout_s: float, stall_s: float,
                 batch_s: Callable[[], float] = lambda: 0.0) -> None:
        self._batch_s = batch_s
        # On a silent socket FFmpeg's first I/O timeout flushes the frame its H.264
        # parser holds, the second one raises: the read ends at about twice the
        # I/O timeout, which is set so that this happens just within stall_s.
        io_timeout_s = max(0.5, (stall_s - 0.5) / 2)
        options = {
            "rtsp_transport": "tcp",
            "timeout": str(int(io_timeout_s * 1_000_000)),
            "analyzeduration": "500000",  # enough for H.264 + AAC; shortens every (re)connect
        }
        started = time.monotonic()
        try:
            # PyAV bounds the open only: with a read timeout its interrupt callback takes the GIL and calls
            # time.monotonic() on every socket read and 100 ms poll FFmpeg makes, which tripled the CPU of a
            # dense host (benchmarks/results/ingest.json); reads are bounded by FFmpeg's own ``timeout``.
            self._container = av.open(url, options=options, timeout=(timeout_s, None))
        except Exception as exc:  # PyAV raises many av.error subclasses
            reason = classify_error(exc)
            # A silent server fails the open after one I/O timeout with "invalid data";
            # a stream of garbage fails within milliseconds.
            if reason == ErrorReason.BAD_STREAM and time.monotonic() - started >= 0.9 * io_timeout_s:
                reason = ErrorReason.TIMEOUT  # a silent server: FFmpeg reports it as invalid data
            log.info("camera source failed to open: %s", redacted_error(exc, url))
            raise SourceError(reason, coarse_detail(reason)) from None
        self._url = url
        try:
            self.video, self.audio = _pick_streams(self._container)
        except SourceError:
            self._container.close()
            raise

    def packets(self, stop: threading.Event) -> Iterator[RawPacket]:
        """Demuxed packets until ``stop``; a read that fails (a stall, a dropped connection) is a SourceError."""
        streams = [s for s in (self.video, self.audio) if s is not None]
        lean = LeanDemuxer.attach(self._container, frozenset(s.index for s in streams))
        try:
            if lean is not None:
                while not stop.is_set() and (batch := lean.read_some(self._batch_s())) is not None:
                    yield from batch
            else:
                for demuxed in self._container.demux(streams):
                    if stop.is_set():
                        return
                    yield raw_packet(demuxed)
        except Exception as exc:  # PyAV's read errors name the URL, credentials included
            log.info("camera source read failed: %s", redacted_error(exc, self._url))
            reason = classify_error(exc)
            raise SourceError(reason, coarse_detail(reason)) from None
        finally:
            if lean is not None:
                lean.close()

    def close(self) -> None:
        self._container.close()


_COARSE = {
    ErrorReason.UNREACHABLE: "could not connect to the camera",
    ErrorReason.UNAUTHORIZED: "the camera refused the credentials",
    ErrorReason.NOT_FOUND: "the camera has no stream at that path",
    ErrorReason.TIMEOUT: "the camera did not answer in time",
    ErrorReason.BAD_STREAM: "the camera's answer is not a usable stream",
}


def coarse_detail(reason: ErrorReason) -> str:
    """What a camera's status says about a failed connection: the reason only, never the far end's text (a
    banner or error page would make camera URLs a way to read what answers on any host and port)."""
    return _COARSE.get(reason, "the camera stream failed")


def redacted_error(exc: BaseException, url: str) -> str:
    """The text of ``exc`` without the credentials of ``url`` (FFmpeg quotes the URL it opened), bounded."""
    try:
        password = parse_stream_url(url).password
    except InvalidCameraUrl:
        password = None
    return redact(str(exc), password)[:300]


class PatternSource:
    """A looping synthetic camera: a pattern encoded once, replayed at real-time pace.

    Timestamps keep increasing across loops, exactly like a live camera's.
    """

    def __init__(self, width: int, height: int, fps: int, seconds: int = 4, *, bframes: int = 0,
                 reset_every: int = 0) -> None:
        self._clip = _encode_pattern(width, height, fps, seconds, bframes)
        self._reset_every = reset_every  # loops after which timestamps restart at 0 (a camera reboot)
        self._container = av.open(io.BytesIO(self._clip), mode="r")
        self.video = self._container.streams.video[0]
        self.audio: av.audio.stream.AudioStream | None = None

    @classmethod
    def from_url(cls, url: str) -> PatternSource:
        query = parse_qs(urlsplit(url).query)

        def arg(name: str, default: int, low: int, high: int) -> int:
            try:
                value = int(query.get(name, [default])[0])
            except ValueError:
                raise SourceError(ErrorReason.BAD_STREAM, f"test source: {name} must be an integer") from None
            if not low <= value <= high:
                raise SourceError(ErrorReason.BAD_STREAM, f"test source: {name} must be in {low}..{high}")
            return value

        w, h = arg("w", 640, 16, 3840), arg("h", 360, 16, 2160)
        return cls(w - w % 2, h - h % 2, arg("fps", 10, 1, 60), bframes=arg("bframes", 0, 0, 3),
                   reset_every=arg("reset_every", 0, 0, 1000))

    def packets(self, stop: threading.Event) -> Iterator[RawPacket]:
        tb = self.video.time_base
        assert tb is not None
        first: int | None = None
        loop_span = 0
        started = time.monotonic()
        loop = 0
        while not stop.is_set():
            container = self._container if loop == 0 else av.open(io.BytesIO(self._clip), mode="r")
            try:
                for packet in container.demux(container.streams.video[0]):
                    if packet.dts is None:
                        continue
                    if first is None:
                        first = packet.dts
                    if loop == 0:
                        loop_span = max(loop_span, packet.dts + (packet.duration or 0) - first)
                    timeline_loop = loop % self._reset_every if self._reset_every else loop
                    offset = timeline_loop * loop_span
                    packet.dts += offset
                    if packet.pts is not None:
                        packet.pts += offset
                    due = started + float((packet.dts - first + (loop - timeline_loop) * loop_span) * tb)
                    if stop.wait(max(0.0, due - time.monotonic())):
                        return
                    yield raw_packet(packet)
            finally:
                if loop > 0:
                    container.close()
            loop += 1

    def close(self) -> None:
        self._container.close()


@functools.lru_cache(maxsize=8)
def _encode_pattern(width: int, height: int, fps: int, seconds: int, bframes: int = 0) -> bytes:
    """H.264 (a keyframe every 2 s, ``bframes`` B-frames) of a moving bar and a frame counter strip."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        stream.options = {"g": str(2 * fps), "bf": str(bframes), "preset": "veryfast" if bframes else "ultrafast",
                          "crf": "28"}
        ys, xs = np.mgrid[0:height, 0:width]
        base = np.stack([(xs * 255 // max(1, width - 1)), (ys * 255 // max(1, height - 1)),
                         np.full_like(xs, 96)], axis=-1).astype(np.uint8)
        total = fps * seconds
        for i in range(total):
            img = base.copy()
            x = (i * width) // total
            img[:, x : x + max(2, width // 40)] = 255
            img[: max(2, height // 30), : (i + 1) * width // total] = (255, 64, 64)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buffer.getvalue()
