"""City A flooding, in a process of its own at a low priority: it stands for other machines (A's browsers, its
cameras and LPR senders), so its own work must not count as the API's or take the measuring process's turns.

It holds A's ``/events`` sockets open and reads everything they get, publishes
A's alerts at ``--rate`` a second on A's stream, and every 20 alerts stores a
batch of 50 plate reads with 20 kB images each (past A's storage quota) as the
LPR writer does. Prints "open" once the sockets are connected and, when sent
SIGTERM, one JSON line of what it did.

    python -m benchmarks.city_flood --dsn … --bus-url … --city … --camera … --rate 50 ws://…/events?ticket=… …
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import uuid
from datetime import UTC, datetime

from websockets.asyncio.client import ClientConnection, connect

from domain.events import tenant_stream
from domain.lpr.queued_read import QueuedRead
from storage import lpr_events
from storage.bus import RedisBus, redis_server_and_prefix
from storage.db import create_pool

READS_PER_BATCH, IMAGE_BYTES = 50, 20_000


async def _drain(ws: ClientConnection, counts: dict[str, int]) -> None:
    async for _ in ws:
        counts["messages_received"] += 1


async def _flood(args: argparse.Namespace, counts: dict[str, int], stop: asyncio.Event) -> None:
    city, camera = uuid.UUID(args.city), uuid.UUID(args.camera)
    pool = await create_pool(args.dsn, max_size=2)
    server, prefix = redis_server_and_prefix(args.bus_url)
    bus = RedisBus(server, prefix=prefix)
    stream, tick, period = tenant_stream(city), 0, 1 / args.rate
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    try:
        while not stop.is_set():
            await bus.publish(stream, {"type": "alert", "kind": "flood", "n": tick})
            counts["alerts_published"] += 1
            tick += 1
            if tick % 20 == 0:
                now = datetime.now(UTC)
                batch = []
                for _ in range(READS_PER_BATCH):
                    read_id = uuid.uuid4()
                    batch.append(QueuedRead(id=read_id, tenant_id=city, camera_id=camera, sender="generic",
                                            plate="FLD0D00", captured_at=now, received_at=now,
                                            dedupe_key=f"k:{read_id}", image_keys=(f"t/{city}/lpr/{read_id}.jpg",),
                                            image_bytes=IMAGE_BYTES))
                await lpr_events.store_batch(pool, batch)
                counts["plate_reads_written"] += len(batch)
            next_at = max(next_at + period, loop.time())  # a steady rate, no catching up in bursts
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, next_at - loop.time()))
            except TimeoutError:
                pass
    finally:
        await bus.close()
        await pool.close()


async def main(args: argparse.Namespace) -> None:
    counts = {"alerts_published": 0, "plate_reads_written": 0, "messages_received": 0}
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    sockets = [await connect(url, open_timeout=30, max_queue=None) for url in args.urls]
    draining = [asyncio.create_task(_drain(ws, counts)) for ws in sockets]
    print("open", flush=True)
    await _flood(args, counts, stop)
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*draining, return_exceptions=True)
    print(json.dumps(counts), flush=True)


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--bus-url", required=True)
    parser.add_argument("--city", required=True)
    parser.add_argument("--camera", required=True)
    parser.add_argument("--rate", type=float, default=50.0, help="A's alerts a second")
    parser.add_argument("--nice", type=int, default=10, help="added to this process's niceness")
    parser.add_argument("urls", nargs="*")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _args()
    os.nice(arguments.nice)
    asyncio.run(main(arguments))
