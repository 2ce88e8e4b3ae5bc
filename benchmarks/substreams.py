"""What a mosaic costs on main streams versus sub-streams (docs/watching.md "Sub-streams").

N cameras with a 1080p main stream and a 640×360 sub-stream (the built-in test pattern, encoded once and replayed,
so no encoder competes for the CPU) are recorded by camera supervisors in this process, on a PostgreSQL database
of their own. A viewer reads the live view of all N as the API's hub does (long polls of per-frame fragments) for
``--window`` seconds, first the main streams, then the sub-streams; for each phase:

- ``viewer_kbps``: what the operator's PC and the city's network carry for the mosaic;
- ``decode_cpu_s_per_s``: CPU seconds to decode one second of that mosaic (PyAV, one thread: roughly what the
  browser's software decoder pays; hardware decoders are bounded by the same pixel rate);
- ``host_cpu_pct``: this process's CPU (the recording of the main streams, plus the sub-streams' ingest while they
  are watched), decoding excluded.

Run: ``flock /tmp/box.lock env PYTHONPATH=$PWD python -m benchmarks.substreams --out benchmarks/results/substreams.json``
"""

from __future__ import annotations

import asyncio
import io
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import av

from actors.camera import CameraSupervisor
from benchmarks.report import base_parser, publish
from domain.stream_url import parse_stream_url
from media.live import LivePiece
from storage import cameras, tenants
from storage.db import create_pool, migrate
from storage.objects import open_object_store
from tests.support.databases import create_database, drop_database

FPS = 15
MAIN = f"test://pattern?w=1920&h=1080&fps={FPS}"
SUB = f"test://pattern?w=640&h=360&fps={FPS}"


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _watch(supervisors: list[CameraSupervisor], sub: bool, window_s: float) -> dict[str, Any]:
    """Read every camera's live view for ``window_s``; the bytes, host CPU, and the cost of decoding them."""
    received: list[list[LivePiece]] = [[] for _ in supervisors]
    inits: list[bytes] = [b"" for _ in supervisors]

    async def follow(i: int, supervisor: CameraSupervisor, until: float) -> None:
        after: int | None = None
        while time.monotonic() < until:
            for piece in await supervisor.live_frames(after, 1.0, sub):
                if not received[i]:
                    inits[i] = supervisor.live_init(piece.init_id, sub) or b""
                received[i].append(piece)
                after = piece.seq

    # warm-up: each view running (the sub-stream opened) before measuring
    await asyncio.gather(*(follow(i, s, time.monotonic() + 3.0) for i, s in enumerate(supervisors)))
    received = [[] for _ in supervisors]
    cpu0, t0 = _cpu_s(), time.monotonic()
    await asyncio.gather(*(follow(i, s, t0 + window_s) for i, s in enumerate(supervisors)))
    host_cpu_s, elapsed = _cpu_s() - cpu0, time.monotonic() - t0
    total = sum(len(p.data) for pieces in received for p in pieces)
    decode0 = time.process_time()
    frames, width = 0, 0
    for init, pieces in zip(inits, received, strict=True):
        keyed = next((k for k, p in enumerate(pieces) if p.keyframe), len(pieces))
        with av.open(io.BytesIO(init + b"".join(p.data for p in pieces[keyed:]))) as container:
            for frame in container.decode(video=0):
                frames += 1
                width = frame.width
    decode_s = time.process_time() - decode0
    return {"width": width, "frames_decoded": frames, "viewer_kbps": round(total * 8 / elapsed / 1000, 1),
            "decode_cpu_s_per_s": round(decode_s / elapsed, 3),
            "host_cpu_pct": round(100 * host_cpu_s / elapsed, 1)}


async def run(cameras_n: int, window_s: float, tmp: Path) -> dict[str, Any]:
    dsn = await create_database()
    pool = await create_pool(dsn, max_size=4)
    supervisors: list[CameraSupervisor] = []
    try:
        await migrate(pool)
        tenant = await tenants.create(pool, "substreams")
        store = open_object_store((tmp / "objects").as_uri())
        for i in range(cameras_n):
            camera = await cameras.create(pool, tenant_id=tenant.id, name=f"c{i}", vendor="generic",
                                          stream=parse_stream_url(MAIN), substream=parse_stream_url(SUB))
            supervisors.append(CameraSupervisor(camera.spec(), store, pool, spool_root=tmp / "spool"))
        for supervisor in supervisors:
            await supervisor.start()
        main = await _watch(supervisors, False, window_s)
        sub = await _watch(supervisors, True, window_s)
    finally:
        for supervisor in supervisors:
            await supervisor.stop()
        await pool.close()
        await drop_database(dsn)
    return {"cameras": cameras_n, "fps": FPS, "window_s": window_s, "main": main, "sub": sub,
            "ratio_sub_to_main": {key: round(sub[key] / main[key], 3) if main[key] else None
                                  for key in ("viewer_kbps", "decode_cpu_s_per_s", "host_cpu_pct")}}


def main() -> int:
    parser = base_parser(__doc__, warmup_s=3.0)
    parser.add_argument("--cameras", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fields = asyncio.run(run(args.cameras, args.window, Path(tmp)))
    publish("substreams", fields, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
