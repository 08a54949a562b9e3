"""Waits and broker helpers for the notification pipeline tests (their data is in
tests/factories.py, their fixtures in tests/conftest.py)."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from aio_pika.abc import AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from notifier import db
from notifier.outbox.models import OutboxMessage
from notifier.workers.consumer import Consumer
from tests.factories import (  # noqa: F401 - re-exported for the pipeline tests
    DYGN,
    FAST,
    GOTEBORG,
    MASSFLYKT,
    STOCKHOLM,
    add_user,
    encode,
    event_body,
)


async def outbox(engine: AsyncEngine) -> list[OutboxMessage]:
    async with db.sessionmaker(engine)() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
        return list((await session.exec(query)).all())


async def eventually(
    probe: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> None:
    """Wait until probe() is true, failing after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await probe():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running(consumer: Consumer) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.consuming.wait(), timeout=15)
        yield task
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def message_count(amqp: AbstractRobustConnection, queue_name: str) -> int:
    channel = await amqp.channel()
    queue = await channel.declare_queue(queue_name, passive=True)
    count = queue.declaration_result.message_count or 0
    await channel.close()
    return count


async def settled(consumer: Consumer, count: int) -> None:
    async def done() -> bool:
        return consumer.acknowledged >= count

    await eventually(done, within=30, what=f"{count} messages acknowledged")
