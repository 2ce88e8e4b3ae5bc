"""Reading a PyAV input's packets without PyAV's GIL hand-offs: in batches, or one ``av_read_frame`` per call.

PyAV's ``demux`` releases the GIL five times per packet (the read, moving the
packet out of the read buffer, resetting it, and allocating and freeing the
``Packet``). Each release is a chance for another ingest thread to take the
GIL, and with dozens of cameras per host most are taken: those hand-offs, not
our Python, were most of a dense host's CPU (docs/density.md). Only the read
blocks, so only the read needs to let go of the GIL.

``LeanDemuxer`` calls FFmpeg on the very ``AVFormatContext`` PyAV opened (the
same library PyAV loaded, found in this process's mappings): ``av_read_frame``
through ``ctypes.CDLL`` (the GIL released while it waits for the camera), and
``av_packet_unref`` through ``ctypes.PyDLL`` (the GIL kept: it only frees).
Each packet is copied out as a ``RawPacket`` of plain Python values.
``read_some`` goes further where the batch reader was built
(media/_batch_read.c): it reads for a short window with the GIL released
throughout and hands on every packet of it at once. The context pointer is
found where PyAV's ``Container`` keeps it and checked against
``avformat_get_class()`` and the stream count before any use;
``attach`` returns None when it does not match (another PyAV layout), and the
caller keeps PyAV's own demux.
"""

from __future__ import annotations

import ctypes
import logging
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import av
import av.error

try:
    import media._batch_read as _batch
except ImportError:  # built where a C compiler was found at install (pyproject.toml); else one packet per call
    _batch = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

NO_TIMESTAMP = -0x8000000000000000  # AV_NOPTS_VALUE
_KEY = 0x1  # AV_PKT_FLAG_KEY
_CONTAINER_PTR_OFFSET = 24  # after the object header (16) and Cython's vtable pointer (8): Container.ptr
_SUPPORTED_PYAV = range(18, 19)  # majors whose Container declares ``AVFormatContext *ptr`` first (checked: 18)


class _AVPacket(ctypes.Structure):
    """The leading fields of FFmpeg's AVPacket (unchanged since FFmpeg 5); allocated by FFmpeg, never by us."""

    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("pts", ctypes.c_int64),
        ("dts", ctypes.c_int64),
        ("data", ctypes.c_void_p),
        ("size", ctypes.c_int),
        ("stream_index", ctypes.c_int),
        ("flags", ctypes.c_int),
        ("side_data", ctypes.c_void_p),
        ("side_data_elems", ctypes.c_int),
        ("duration", ctypes.c_int64),
        ("pos", ctypes.c_int64),
    ]


class _AVFormatContextHead(ctypes.Structure):
    """The leading fields of FFmpeg's AVFormatContext, enough to check a pointer is one."""

    _fields_ = [
        ("av_class", ctypes.c_void_p),
        ("iformat", ctypes.c_void_p),
        ("oformat", ctypes.c_void_p),
        ("priv_data", ctypes.c_void_p),
        ("pb", ctypes.c_void_p),
        ("ctx_flags", ctypes.c_int),
        ("nb_streams", ctypes.c_uint),
    ]


@dataclass(slots=True)
class RawPacket:
    """One demuxed packet as plain values; ``pts``/``dts`` are None when the container has none."""

    stream_index: int
    data: bytes
    pts: int | None
    dts: int | None
    duration: int
    is_keyframe: bool

    @property
    def size(self) -> int:
        return len(self.data)


def _demuxed(stream: int, data: bytes, pts: int, dts: int, duration: int, flags: int) -> RawPacket:
    """A packet from FFmpeg's own fields (AV_NOPTS_VALUE for a missing timestamp, AV_PKT_FLAG_KEY)."""
    return RawPacket(stream, data, None if pts == NO_TIMESTAMP else pts, None if dts == NO_TIMESTAMP else dts,
                     duration, bool(flags & _KEY))


def raw_packet(packet: av.Packet) -> RawPacket:
    """A packet PyAV demuxed, as the same plain values (its bytes copied)."""
    return RawPacket(packet.stream_index, bytes(packet), packet.pts, packet.dts, packet.duration or 0,
                     bool(packet.is_keyframe))


@dataclass(frozen=True)
class _Libav:
    read_frame: Callable[..., Any]  # GIL released
    packet_alloc: Callable[..., Any]
    packet_unref: Callable[..., Any]  # GIL kept
    packet_free: Callable[..., Any]
    format_class: int
    read_frame_at: int  # the addresses of read_frame and packet_unref, for the batch reader
    packet_unref_at: int


@cache
def _libav() -> _Libav | None:
    """FFmpeg's functions from the libraries PyAV loaded (never a second copy), or None when not found."""
    if int(av.__version__.split(".")[0]) not in _SUPPORTED_PYAV:
        log.warning("PyAV %s is not one whose layout the lean reader knows: PyAV's own demux is used",
                    av.__version__)
        return None
    maps = Path("/proc/self/maps")
    loaded = maps.read_text() if maps.exists() else ""
    found = {m.group(2): m.group(1) for m in re.finditer(r"(/\S*/lib(avformat|avcodec)[-.][^/\s]*)", loaded)}
    if set(found) != {"avformat", "avcodec"}:
        return None
    blocking, holding = ctypes.CDLL(found["avformat"]), ctypes.PyDLL(found["avcodec"])
    read_frame = blocking.av_read_frame
    read_frame.argtypes, read_frame.restype = [ctypes.c_void_p, ctypes.POINTER(_AVPacket)], ctypes.c_int
    packet_alloc = holding.av_packet_alloc
    packet_alloc.argtypes, packet_alloc.restype = [], ctypes.POINTER(_AVPacket)
    packet_unref = holding.av_packet_unref
    packet_unref.argtypes, packet_unref.restype = [ctypes.POINTER(_AVPacket)], None
    packet_free = holding.av_packet_free
    packet_free.argtypes, packet_free.restype = [ctypes.POINTER(ctypes.POINTER(_AVPacket))], None
    get_class = ctypes.PyDLL(found["avformat"]).avformat_get_class
    get_class.argtypes, get_class.restype = [], ctypes.c_void_p
    return _Libav(read_frame, packet_alloc, packet_unref, packet_free, get_class() or 0,
                  ctypes.cast(read_frame, ctypes.c_void_p).value or 0, ctypes.cast(packet_unref, ctypes.c_void_p).value or 0)


class LeanDemuxer:
    """Reads packets of an open PyAV input container; ``close`` before the container is closed."""

    def __init__(self, libav: _Libav, context: int, wanted: frozenset[int], streams: int) -> None:
        self._libav = libav
        self._context = context
        self._wanted = wanted
        self._packet = libav.packet_alloc()
        if not self._packet:
            raise MemoryError("av_packet_alloc failed")
        self._mask = bytes(1 if i in wanted else 0 for i in range(streams))
        self._data = bytearray(_BATCH_BYTES)
        self._meta = array("q", bytes(8 * _META_FIELDS * _BATCH_PACKETS))
        self._pending = False  # the packet struct holds a packet the last batch had no room for
        self._error = 0  # an error that ended the last batch, raised once its packets are handed on

    @classmethod
    def attach(cls, container: av.container.InputContainer, wanted: frozenset[int]) -> LeanDemuxer | None:
        """A demuxer over ``container``'s own context, or None where this PyAV's layout is not the known one."""
        libav = _libav()
        if libav is None or not libav.format_class:
            return None
        context = ctypes.c_void_p.from_address(id(container) + _CONTAINER_PTR_OFFSET).value
        if not context or context % 8:
            return None
        head = _AVFormatContextHead.from_address(context)
        if head.av_class != libav.format_class or head.nb_streams != len(container.streams):
            log.warning("PyAV %s keeps its format context elsewhere: PyAV's own demux is used", av.__version__)
            return None
        return cls(libav, context, wanted, head.nb_streams)

    def read_some(self, window_s: float) -> list[RawPacket] | None:
        """The packets that arrive within ``window_s`` of the first (at least one); None at the end of the stream.

        With the batch reader built (media/_batch_read.c) they are read with the GIL released throughout; without
        it, one packet per call. Raises PyAV's errors, after handing on the packets read before the error."""
        if _batch is None:
            packet = self.read()
            return None if packet is None else [packet]
        if self._error:
            error, self._error = self._error, 0
            _raise_unless_end(error)
            return None
        while True:
            count, _, error, self._pending = _batch.read_batch(
                self._context, ctypes.addressof(self._packet.contents), self._libav.read_frame_at,
                self._libav.packet_unref_at, self._mask, self._data, self._meta, int(window_s * 1_000_000),
                self._pending)
            if count or not self._pending:
                break
            self._data = bytearray(max(2 * len(self._data), self._packet.contents.size))  # one packet outgrew it
        if not count:
            _raise_unless_end(error)
            return None
        self._error = error
        data, meta = memoryview(self._data), self._meta
        packets = []
        for row in range(0, count * _META_FIELDS, _META_FIELDS):
            stream, pts, dts, duration, flags, offset, size = meta[row : row + _META_FIELDS]
            packets.append(_demuxed(stream, bytes(data[offset : offset + size]), pts, dts, duration, flags))
        return packets

    def read(self) -> RawPacket | None:
        """The next packet of a wanted stream; None at the end of the stream. Raises PyAV's errors."""
        packet = self._packet
        read_frame, unref = self._libav.read_frame, self._libav.packet_unref
        while True:
            result = read_frame(self._context, packet)
            if result < 0:
                if result == _EOF:
                    return None
                av.error.err_check(result)
            p = packet.contents
            try:
                if p.stream_index not in self._wanted or p.size <= 0:
                    continue
                return _demuxed(p.stream_index, ctypes.string_at(p.data, p.size), p.pts, p.dts, p.duration, p.flags)
            finally:
                unref(packet)

    def close(self) -> None:
        if self._packet:
            self._libav.packet_free(ctypes.byref(self._packet))
            self._packet = ctypes.POINTER(_AVPacket)()


def _raise_unless_end(error: int) -> None:
    """PyAV's exception for an FFmpeg error other than the end of the stream."""
    if error != _EOF:
        av.error.err_check(error)


_EOF = -0x20464F45  # AVERROR_EOF: -MKTAG('E','O','F',' ')
_BATCH_BYTES = 64 * 1024  # grows to the largest packet seen (a keyframe) when one does not fit
_BATCH_PACKETS = 64
_META_FIELDS = 7  # per packet: stream, pts, dts, duration, flags, offset, size (media/_batch_read.c)
