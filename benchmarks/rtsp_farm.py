"""What a test camera costs per client: the lean farm (tests/support/rtsp_farm.py) against GStreamer's server.

Both serve the sub-stream profile (640×360, 15 fps, 1 s GOP, ~384 kbps; the
GStreamer file server replays the same pre-encoded clip without re-encoding)
to N clients, one mount each. The clients are minimal RTSP sessions in this
process (DESCRIBE, SETUP interleaved, PLAY, then read and discard), so the
CPU measured is the server's alone. Prints JSON, writes --out.

    .venv/bin/python -m benchmarks.rtsp_farm --clients 50 200 500 1000 --out benchmarks/results/rtsp_farm.json
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.procfs import cpu_seconds, uss_kib
from benchmarks.report import base_parser, publish
from tests.support.ports import free_port
from tests.support.processes import stop_process
from tests.support.rtsp_camera import RtspFarm
from tests.support.rtsp_farm import clip_file

FILE_SERVER = Path(__file__).parents[1] / "tests" / "support" / "rtsp_file_server.py"
PROFILE = {"width": 640, "height": 360, "fps": 15, "gop": 15, "seconds": 4, "kbps": 384}


async def _client(url: str, stop: asyncio.Event, received: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", int(url.split(":")[2].split("/")[0]))
    cseq = 0

    async def request(method: str, target: str, extra: str = "") -> str:
        nonlocal cseq
        cseq += 1
        writer.write(f"{method} {target} RTSP/1.0\r\nCSeq: {cseq}\r\n{extra}\r\n".encode())
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        length = next((int(line.split(":")[1]) for line in head.split("\r\n")
                       if line.lower().startswith("content-length")), 0)
        if length:
            await reader.readexactly(length)
        return head

    try:
        await request("DESCRIBE", url, "Accept: application/sdp\r\n")
        head = await request("SETUP", f"{url}/stream=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
        session = next(line.split(":", 1)[1].split(";")[0].strip() for line in head.split("\r\n")
                       if line.lower().startswith("session"))
        await request("PLAY", url, f"Session: {session}\r\nRange: npt=0.000-\r\n")
        while not stop.is_set():
            data = await reader.read(1 << 16)
            if not data:
                return
            received[0] += len(data)
    finally:
        writer.close()


async def _measure(urls: list[str], pid: int, warmup_s: float, window_s: float) -> dict[str, Any]:
    stop = asyncio.Event()
    received = [0]
    clients = []
    for url in urls:  # paced, as cameras are added: a burst of 1000 connects is not what is measured
        clients.append(asyncio.create_task(_client(url, stop, received)))
        await asyncio.sleep(0.005)
    await asyncio.sleep(warmup_s)
    cpu0, bytes0 = cpu_seconds(pid), received[0]
    await asyncio.sleep(window_s)
    cpu, got = cpu_seconds(pid) - cpu0, received[0] - bytes0
    alive = sum(1 for c in clients if not c.done())
    stop.set()
    for c in clients:
        c.cancel()
    await asyncio.gather(*clients, return_exceptions=True)
    n = len(urls)
    return {"clients": n, "clients_alive": alive, "cpu_pct": round(100 * cpu / window_s, 2),
            "cpu_pct_per_client": round(100 * cpu / window_s / n, 4), "uss_mib": round(uss_kib(pid) / 1024, 1),
            "kbps_per_client": round(got * 8 / window_s / n / 1000, 1)}


def run_farm(n: int, warmup_s: float, window_s: float) -> dict[str, Any]:
    farm = RtspFarm(free_port(), [], count=n, fps=PROFILE["fps"], gop=PROFILE["gop"], width=PROFILE["width"],
                    height=PROFILE["height"], kbps=PROFILE["kbps"])
    farm.start()
    try:
        assert farm.pid is not None
        return asyncio.run(_measure([farm.url(f"s{i}") for i in range(n)], farm.pid, warmup_s, window_s))
    finally:
        farm.stop()


def run_gstreamer(n: int, warmup_s: float, window_s: float) -> dict[str, Any]:
    clip = clip_file(*PROFILE.values())
    port = free_port()
    proc = subprocess.Popen(["/usr/bin/python3", str(FILE_SERVER), "--port", str(port), "--file", str(clip),
                             "--mounts", str(n)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "READY":
            raise RuntimeError("the GStreamer file server did not start")
        return asyncio.run(_measure([f"rtsp://127.0.0.1:{port}/s{i}" for i in range(n)], proc.pid, warmup_s,
                                    window_s))
    finally:
        stop_process(proc)


def main() -> int:
    parser = base_parser(__doc__, warmup_s=5.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200, 500, 1000])
    parser.add_argument("--gstreamer-clients", type=int, default=50, help="the peer's client count")
    args = parser.parse_args()
    loadavg_before = Path("/proc/loadavg").read_text().split()[:3]
    peer = run_gstreamer(args.gstreamer_clients, args.warmup, args.window)
    print(peer, file=sys.stderr, flush=True)
    runs = []
    for n in args.clients:
        runs.append(run_farm(n, args.warmup, args.window))
        print(runs[-1], file=sys.stderr, flush=True)
    same_n = next((r for r in runs if r["clients"] == args.gstreamer_clients), runs[0])
    publish("rtsp_farm", {
        "profile": PROFILE,
        "loadavg_before": loadavg_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "gstreamer": peer,
        "farm": runs,
        "cpu_ratio_farm_vs_gstreamer": round(same_n["cpu_pct_per_client"] / peer["cpu_pct_per_client"], 3),
        "window_s": args.window,
    }, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
