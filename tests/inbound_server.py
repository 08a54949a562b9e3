"""`notifier inbound` on a loopback port for a test: served until the test ends, and
accepting connections before the test starts."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from notifier.inbound.server import Inbound, serve
from tests.smtp_server import free_port


@asynccontextmanager
async def running(
    handler: Inbound, *, max_bytes: int, port: int | None = None
) -> AsyncIterator[int]:
    port = port or free_port()
    task = asyncio.create_task(serve(handler, host="127.0.0.1", port=port, max_bytes=max_bytes))
    for _ in range(50):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.05)
    try:
        yield port
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
