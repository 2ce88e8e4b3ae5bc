"""A camera's live view, fed by its ingest thread: what a viewer gets at once, and every frame after.

Three things are kept in memory, all bounded:

- the packets of the current GOP (what was demuxed, no copy), so
  a new viewer starts at the latest keyframe at once and a snapshot can decode it;
- while someone watches (a lease each read renews), a second muxer — video only,
  one fMP4 fragment per frame — fills the *frame ring* behind the sub-second
  WebSocket view; nobody watching costs no muxing;
- the recording's own GOP fragments (the *GOP ring*) behind the live HLS
  playlist: the full window while someone reads it (a lease of its own), only
  the newest GOP otherwise — a window of 2 Mbps GOPs is ≈ 4 MiB a camera, most
  of what a dense host would hold for cameras nobody watches.

Writers are the ingest thread; readers are the camera's event loop. A lock
guards the rings; ``notify`` tells readers something new arrived. A failure in
the live muxer turns the live view off until the next keyframe, never the recording.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import av

from media.fragmenter import Fragment, Fragmenter, InPieces
from media.lean_demux import RawPacket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LimitsOfLive:
    """Memory bounds of one camera's live view."""

    gop_packets: int = 900  # held packets of the current GOP (30 s at 30 fps)
    gop_bytes: int = 32 * 1024**2
    frame_ring_bytes: int = 16 * 1024**2
    gop_ring_fragments: int = 8  # live HLS window while someone reads it; 1 otherwise
    gop_ring_bytes: int = 64 * 1024**2
    lease_s: float = 10.0  # the live muxer stops this long after the last read


@dataclass(frozen=True)
class LivePiece:
    """One fragment of the live view. ``received_at`` is when the camera actor got its packet (epoch s)."""

    seq: int
    data: bytes
    keyframe: bool
    received_at: float
    init_id: int


@dataclass(frozen=True)
class LiveGop(InPieces):
    """One recording fragment (a GOP) of the live HLS window, as the pieces the recorder wrote (joined only
    when a player asks for it)."""

    seq: int
    init_id: int
    start_ms: int
    duration_s: float
    parts: tuple[bytes, ...]


@dataclass(frozen=True)
class Keyframe:
    """The latest keyframe, enough to decode one picture (see media/snapshot.py)."""

    codec: str
    extradata: bytes
    data: bytes
    width: int
    height: int
    received_at: float


@dataclass
class _Held:
    """The current GOP's packets, with when each arrived."""

    packets: list[tuple[RawPacket, float]] = field(default_factory=list)
    bytes: int = 0
    overflowed: bool = False  # the GOP outgrew the bounds: nothing more is held until the next keyframe


class LiveFeed:
    """One camera's live view. Ingest-thread methods: ``run_started``, ``video_packet``, ``gop``, ``run_ended``."""

    def __init__(self, notify: Callable[[], None] = lambda: None, limits: LimitsOfLive | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or LimitsOfLive()
        self._notify = notify
        self._clock = clock
        self._lock = threading.Lock()
        self._video: av.video.stream.VideoStream | None = None
        self._held = _Held()
        self._muxer: Fragmenter | None = None
        self._in_muxer: deque[tuple[bool, float]] = deque()  # (keyframe, received_at) of packets not yet out
        self._wanted_until = 0.0
        self._gops_wanted_until = 0.0
        self._init_ids = 0
        self._inits: dict[int, bytes] = {}
        self._frame_init_id = 0
        self._frames: deque[LivePiece] = deque()
        self._frames_bytes = 0
        self._next_frame_seq = 1
        self._gops: deque[LiveGop] = deque()
        self._gop_init: tuple[bytes, int] | None = None
        self._next_gop_seq = 1

    # --- readers (event loop) ---------------------------------------------------

    def want(self) -> None:
        """Renew the viewers' lease: the frame muxer runs while leases are fresh."""
        self._wanted_until = self._clock() + self.limits.lease_s

    def watched(self) -> bool:
        """Whether a viewer of the frame-by-frame view holds a lease (from any thread)."""
        return self._clock() < self._wanted_until

    def frames_after(self, after_seq: int | None) -> list[LivePiece]:
        """Frame fragments newer than ``after_seq``; from the latest keyframe for a new or lagging reader."""
        self.want()
        with self._lock:
            frames = list(self._frames)
        if not frames:
            return []
        if after_seq is None or after_seq < frames[0].seq - 1 or after_seq >= self._next_frame_seq:
            keyframes = [i for i, f in enumerate(frames) if f.keyframe]
            return frames[keyframes[-1]:] if keyframes else []
        return [f for f in frames if f.seq > after_seq]

    def init(self, init_id: int) -> bytes | None:
        with self._lock:
            return self._inits.get(init_id)

    def gops(self) -> list[LiveGop]:
        """The live HLS window; reading it renews the lease that keeps the window full."""
        self._gops_wanted_until = self._clock() + self.limits.lease_s
        with self._lock:
            return list(self._gops)

    def keyframe(self) -> Keyframe | None:
        """The latest keyframe of the running stream, or None before the first."""
        with self._lock:
            if self._video is None or not self._held.packets:
                return None
            packet, at = self._held.packets[0]
            ctx = self._video.codec_context
            return Keyframe(ctx.name, bytes(ctx.extradata or b""), packet.data, ctx.width, ctx.height, at)

    # --- writers (ingest thread) -------------------------------------------------

    def run_started(self, video: av.video.stream.VideoStream) -> None:
        with self._lock:
            self._stop_muxer()
            self._video = video
            self._held = _Held()

    def run_ended(self) -> None:
        """The stream ended: nothing of it is live any more (a new viewer must not get stale frames)."""
        with self._lock:
            last = self._stop_muxer()
        self._publish(last)
        with self._lock:
            self._video = None
            self._held = _Held()
            self._clear_frames()
        self._notify()

    def video_packet(self, packet: RawPacket, received_at: float) -> None:
        """A video packet the recording accepted (DTS in order); ``received_at`` is epoch seconds."""
        out: list[LivePiece] = []
        with self._lock:
            if self._video is None:
                return
            held = self._held
            if packet.is_keyframe:
                held = self._held = _Held()
            elif not held.packets and not held.overflowed and self._muxer is None:
                return  # joined mid-GOP: wait for a keyframe
            if not held.overflowed:
                held.packets.append((packet, received_at))
                held.bytes += packet.size
                if len(held.packets) > self.limits.gop_packets or held.bytes > self.limits.gop_bytes:
                    self._held = _Held(overflowed=True)  # too long to hold: new viewers wait for a keyframe
            if self._clock() < self._wanted_until:
                if self._muxer is not None or self._held.packets:
                    out = self._feed(packet, received_at)
            elif self._muxer is not None:
                out = self._stop_muxer()
                self._clear_frames()
        self._publish(out)

    def gop(self, init: bytes, start_ms: int, fragment: Fragment) -> None:
        """A recording fragment (one GOP) was written: it joins the live HLS window."""
        with self._lock:
            if self._gop_init is None or self._gop_init[0] != init:
                self._gop_init = (init, self._new_init(init))
            self._gops.append(LiveGop(self._next_gop_seq, self._gop_init[1], start_ms,
                                      fragment.duration / fragment.timescale, fragment.parts))
            self._next_gop_seq += 1
            window = self.limits.gop_ring_fragments if self._clock() < self._gops_wanted_until else 1
            while len(self._gops) > window or (
                len(self._gops) > 1 and sum(g.size for g in self._gops) > self.limits.gop_ring_bytes
            ):
                self._gops.popleft()
            self._forget_unused_inits()
        self._notify()

    # --- internals (lock held) -----------------------------------------------------

    def _feed(self, packet: RawPacket, received_at: float) -> list[LivePiece]:
        try:
            if self._muxer is None:
                assert self._video is not None
                self._muxer = Fragmenter(self._video, None, per_frame=True)
                self._in_muxer.clear()
                pieces: list[LivePiece] = []
                for held, at in self._held.packets:  # the GOP so far: a new viewer starts at its keyframe
                    pieces += self._mux(held, at)
                return pieces
            return self._mux(packet, received_at)
        except Exception as exc:  # the live view is best effort; recording goes on
            log.warning("live muxer failed, live view restarts at the next keyframe: %s", exc)
            self._muxer = None
            self._held = _Held()
            return []

    def _mux(self, packet: RawPacket, received_at: float) -> list[LivePiece]:
        assert self._muxer is not None and self._video is not None
        self._in_muxer.append((bool(packet.is_keyframe), received_at))
        return self._pieces(self._muxer.mux(packet, self._video.index))

    def _pieces(self, fragments: list[Fragment]) -> list[LivePiece]:
        assert self._muxer is not None
        if self._muxer.init is not None and self._inits.get(self._frame_init_id) != self._muxer.init:
            self._frame_init_id = self._new_init(self._muxer.init)
        pieces = []
        for fragment in fragments:
            keyframe, at = self._in_muxer.popleft() if self._in_muxer else (False, time.time())
            pieces.append(LivePiece(self._next_frame_seq, fragment.data, keyframe, at, self._frame_init_id))
            self._next_frame_seq += 1
        for piece in pieces:
            self._frames.append(piece)
            self._frames_bytes += len(piece.data)
        self._trim_frames()
        return pieces

    def _trim_frames(self) -> None:
        """Keep the last two GOPs at most, and never more than the byte bound; start at a keyframe."""
        keyframes = [i for i, f in enumerate(self._frames) if f.keyframe]
        drop = keyframes[-2] if len(keyframes) > 2 else 0
        for _ in range(drop):
            self._frames_bytes -= len(self._frames.popleft().data)
        while self._frames and self._frames_bytes > self.limits.frame_ring_bytes:
            self._frames_bytes -= len(self._frames.popleft().data)
            while self._frames and not self._frames[0].keyframe:
                self._frames_bytes -= len(self._frames.popleft().data)

    def _stop_muxer(self) -> list[LivePiece]:
        if self._muxer is None:
            return []
        try:
            pieces = self._pieces(self._muxer.close())
        except Exception as exc:
            log.debug("closing the live muxer: %s", exc)
            pieces = []
        self._muxer = None
        self._in_muxer.clear()
        return pieces

    def _clear_frames(self) -> None:
        self._frames.clear()
        self._frames_bytes = 0
        self._forget_unused_inits()

    def _new_init(self, init: bytes) -> int:
        self._init_ids += 1
        self._inits[self._init_ids] = init
        return self._init_ids

    def _forget_unused_inits(self) -> None:
        used = {g.init_id for g in self._gops} | {f.init_id for f in self._frames} | {self._frame_init_id}
        for init_id in [i for i in self._inits if i not in used]:
            del self._inits[init_id]

    def _publish(self, pieces: list[LivePiece]) -> None:
        if pieces:
            self._notify()
