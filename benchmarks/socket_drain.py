"""Hold ``/events`` sockets open and read everything they get, in a process of its own (the flooding city's
browsers in benchmarks/fairness.py, kept out of the measuring process). Prints "open" once all are connected.

    python -m benchmarks.socket_drain ws://127.0.0.1:PORT/api/v1/events?ticket=… …
"""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.client import ClientConnection, connect


async def _drain(ws: ClientConnection) -> None:
    async for _ in ws:
        pass


async def main(urls: list[str]) -> None:
    sockets = [await connect(url, open_timeout=30) for url in urls]
    print("open", flush=True)
    await asyncio.gather(*(_drain(ws) for ws in sockets), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
