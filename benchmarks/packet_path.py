"""µs of CPU per packet on the recording path, without the network: what our Python adds to FFmpeg's demux.

Demuxes a pre-encoded 1280×720 H.264 clip (25 fps, 2 s GOP, 2 Mbps, the
ingest benchmark's) from memory twice: once only reading packets (the peer:
what any recorder pays), once through ``record_run`` exactly as a camera's
ingest thread runs it (fragmenter, chunk assembly, run clock, ingest stats,
live feed with nobody watching) into a sink that keeps nothing. The
difference per packet is the recording path's own cost. Best of --repeat.

    .venv/bin/python -m benchmarks.packet_path --out benchmarks/results/packet_path.json
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import av

from benchmarks.report import base_parser, publish
from media.ingest_stats import IngestStats
from media.lean_demux import RawPacket, raw_packet
from media.live import LiveFeed
from media.recorder import record_run

CLIP_S = 60


class _MemorySource:
    """A clip in memory, read as a camera's packet source (no pacing)."""

    def __init__(self, clip: bytes) -> None:
        self._container = av.open(io.BytesIO(clip), mode="r")
        self.video = self._container.streams.video[0]
        self.audio: av.audio.stream.AudioStream | None = None
        self.packets_read = 0

    def packets(self, stop: threading.Event) -> Iterator[RawPacket]:
        for packet in self.demuxed():
            yield raw_packet(packet)

    def demuxed(self) -> Iterator[av.Packet]:
        for packet in self._container.demux(self.video):
            if packet.size:
                self.packets_read += 1
                yield packet

    def close(self) -> None:
        self._container.close()


class _NullSink:
    def open_chunk(self, start_ms: int, init: bytes) -> None:
        pass

    def append(self, parts: Sequence[bytes]) -> None:
        pass

    def close_chunk(self) -> Path | None:
        return None


def _demux_only(clip: bytes) -> tuple[float, int]:
    source = _MemorySource(clip)
    started = time.process_time()
    for _ in source.demuxed():
        pass
    return time.process_time() - started, source.packets_read


def _recorded(clip: bytes) -> tuple[float, int]:
    source = _MemorySource(clip)
    started = time.process_time()
    record_run(source, max_chunk_ms=60_000, on_chunk=lambda _: None, stop=threading.Event(), sink=_NullSink(),
               stats=IngestStats(), live=LiveFeed())
    return time.process_time() - started, source.packets_read


def main() -> int:
    parser = base_parser(__doc__, warmup_s=0.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        subprocess.run(
            ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25",
             "-t", str(CLIP_S), "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50",
             "-sc_threshold", "0", "-bf", "0", "-b:v", "2M", "-pix_fmt", "yuv420p", str(path)],
            check=True, timeout=600)
        clip = path.read_bytes()
    demux = min(_demux_only(clip) for _ in range(args.repeat))
    recorded = min(_recorded(clip) for _ in range(args.repeat))
    packets = demux[1]
    demux_us, total_us = demux[0] / packets * 1e6, recorded[0] / packets * 1e6
    publish("packet_path", {
        "source": "1280x720 H.264 25 fps, GOP 50, 2 Mbps, demuxed from memory",
        "packets": packets,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "demux_only_us_per_packet": round(demux_us, 2),
        "record_run_us_per_packet": round(total_us, 2),
        "recording_path_us_per_packet": round(total_us - demux_us, 2),
        "ratio_vs_demux_only": round(total_us / demux_us, 2),
    }, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
