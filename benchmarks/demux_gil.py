"""CPU per packet of N RTSP streams read by N threads of one process: how PyAV's demux and our lean reader compare.

A dense camera host reads dozens of cameras, one thread each, in one
process. This isolates the read itself from everything else a camera does:
one child process per reader opens N streams of the RTSP farm (1280×720 H.264,
25 fps, 2 Mbps) and only reads (``pyav``: ``container.demux``; ``pyav+ffmpeg-mux``:
the same, each packet also remuxed by FFmpeg's mp4 muxer, the recording path
before; ``lean``: media/lean_demux.py; ``lean+fragmenter``: that and
media/fragmenter.py; ``batch+fragmenter``: the same, packets read in batches
of 250 ms with the GIL released throughout, the recording path now), while the parent measures its CPU. The peer in
the same run is N ``ffmpeg -c copy`` processes writing 10 s segments.

    .venv/bin/python -m benchmarks.demux_gil --streams 50 --out benchmarks/results/demux_gil.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import av

from benchmarks.procfs import cpu_percent_over
from benchmarks.report import base_parser, publish
from tests.support.ports import free_port
from tests.support.processes import stop_process
from tests.support.rtsp_camera import RtspFarm

READERS = ("pyav", "pyav+ffmpeg-mux", "lean", "lean+fragmenter", "batch+fragmenter")
BATCH_WINDOW_S = 0.25
_OPTIONS = {"rtsp_transport": "tcp", "timeout": "2250000", "analyzeduration": "500000"}


def read_stream(url: str, reader: str, counts: list[int], slot: int, stop: threading.Event) -> None:
    """One camera's thread: read (and remux) until ``stop``; ``counts[slot]`` counts packets."""
    from media.fragmenter import Fragmenter
    from media.lean_demux import LeanDemuxer

    container = av.open(url, options=_OPTIONS, timeout=(10.0, None))
    video = container.streams.video[0]
    try:
        if reader.startswith(("lean", "batch")):
            demuxer = LeanDemuxer.attach(container, frozenset({video.index}))
            assert demuxer is not None, "this PyAV's layout is not the known one"
            fragmenter = Fragmenter(video) if reader.endswith("+fragmenter") else None
            window_s = BATCH_WINDOW_S if reader.startswith("batch") else 0.0
            while not stop.is_set() and (packets := demuxer.read_some(window_s)) is not None:
                counts[slot] += len(packets)
                for packet in packets:
                    if fragmenter is not None and packet.dts is not None:
                        fragmenter.mux(packet, video.index)
            demuxer.close()
            return
        muxer = _FFmpegMuxer(video) if reader == "pyav+ffmpeg-mux" else None
        for demuxed in container.demux(video):
            if stop.is_set():
                break
            if demuxed.size and demuxed.dts is not None:
                counts[slot] += 1
                if muxer is not None:
                    muxer.mux(demuxed)
    finally:
        container.close()


class _FFmpegMuxer:
    """The recording path before media/fragmenter.py wrote fragments itself: FFmpeg's mp4 muxer per packet."""

    def __init__(self, video: av.video.stream.VideoStream) -> None:
        self._out = av.open(self, mode="w", format="mp4",
                            options={"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"})
        self._stream = self._out.add_stream_from_template(video)

    def mux(self, packet: av.Packet) -> None:
        packet.stream = self._stream
        self._out.mux(packet)

    def write(self, data: Any) -> int:
        return len(data)


def child(reader: str, urls: list[str], seconds: float) -> None:
    counts = [0] * len(urls)
    stop = threading.Event()
    threads = [threading.Thread(target=read_stream, args=(url, reader, counts, i, stop), daemon=True)
               for i, url in enumerate(urls)]
    for thread in threads:
        thread.start()
    marks = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # one line a second: the parent takes packet counts over its window
        time.sleep(1.0)
        marks.append(sum(counts))
        print(json.dumps({"t": time.monotonic(), "packets": marks[-1]}), flush=True)
    stop.set()


def run_child(reader: str, urls: list[str], warmup_s: float, window_s: float) -> dict[str, Any]:
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.demux_gil", "--child", reader,
                             "--seconds", str(warmup_s + window_s + 5), "--urls", *urls],
                            stdout=subprocess.PIPE, text=True)
    latest: dict[str, float] = {}

    def follow() -> None:  # the child's newest packet count, read as it prints it
        assert proc.stdout is not None
        for line in proc.stdout:
            latest.update(json.loads(line))

    threading.Thread(target=follow, daemon=True).start()
    try:
        time.sleep(warmup_s)
        before = dict(latest)
        cpu = cpu_percent_over([proc.pid], window_s)[proc.pid]
        after = dict(latest)
    finally:
        stop_process(proc, 10)
    if not before or after["t"] <= before["t"]:
        raise RuntimeError(f"the {reader} reader printed no progress")
    rate = (after["packets"] - before["packets"]) / (after["t"] - before["t"])
    return {"cpu_pct": round(cpu, 2), "packets_per_s": round(rate, 1),
            "us_per_packet": round(cpu / 100 * 1e6 / rate, 1)}


def run_ffmpeg(urls: list[str], out: Path, warmup_s: float, window_s: float, packets_per_s: float) -> dict[str, Any]:
    procs = []
    for i, url in enumerate(urls):
        (out / str(i)).mkdir(parents=True)
        procs.append(subprocess.Popen(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url, "-c", "copy",
             "-f", "segment", "-segment_time", "10", "-reset_timestamps", "1", str(out / str(i) / "%05d.mp4")]))
    try:
        time.sleep(warmup_s)
        cpu = sum(cpu_percent_over([p.pid for p in procs], window_s).values())
    finally:
        for proc in procs:
            stop_process(proc, 10)
    return {"cpu_pct": round(cpu, 2), "us_per_packet": round(cpu / 100 * 1e6 / packets_per_s, 1)}


def main() -> int:
    if "--child" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--child", choices=READERS)
        parser.add_argument("--seconds", type=float)
        parser.add_argument("--urls", nargs="+")
        args = parser.parse_args()
        child(args.child, args.urls, args.seconds)
        return 0
    parser = base_parser(__doc__, warmup_s=8.0)
    parser.set_defaults(window=20.0)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--readers", nargs="+", choices=READERS, default=list(READERS))
    args = parser.parse_args()
    n = args.streams
    farm = RtspFarm(free_port(), [], count=n, width=1280, height=720, fps=25, gop=50, kbps=2000)
    farm.start()
    urls = [farm.url(f"s{i}") for i in range(n)]
    runs: dict[str, Any] = {}
    try:
        for reader in args.readers:
            runs[reader] = run_child(reader, urls, args.warmup, args.window)
            print(reader, json.dumps(runs[reader]), file=sys.stderr, flush=True)
        rate = max(r["packets_per_s"] for r in runs.values())
        with tempfile.TemporaryDirectory(prefix="gtv-demux-") as tmp:
            runs["ffmpeg"] = run_ffmpeg(urls, Path(tmp), args.warmup, args.window, rate)
        print("ffmpeg", json.dumps(runs["ffmpeg"]), file=sys.stderr, flush=True)
    finally:
        farm.stop()
    publish("demux_gil", {"streams": n, "loadavg": os.getloadavg(), "runs": runs,
                          "ratio_vs_ffmpeg": {k: round(v["us_per_packet"] / runs["ffmpeg"]["us_per_packet"], 2)
                                              for k, v in runs.items() if k != "ffmpeg"}}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
