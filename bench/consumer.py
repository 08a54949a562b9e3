"""The consumer (consume → validate → match → outbox commit → ack) next to bare aio-pika
consuming the same number of messages from a queue of the same shape, acknowledging with
`ack(multiple=True)` once per batch of the consumer's size, at the consumer's prefetch.

Events of every type, an ordinary day's mix (bench.data.mixed_events), are spread over all
organisations of the data set: about 5 recipients per event with 100,000 users, as the
issue asks. Each side is timed from its first settled batch to its last, so connecting and
the first deliveries count for neither. The consumer is built by the composition root and
its progress read from its own count of settled messages (stored and acknowledged): counting
its rows of processed events in the database a hundred times a second took PostgreSQL CPU
from the run it measured, which the baseline never paid.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

import aio_pika
import asyncpg
from aio_pika.abc import AbstractIncomingMessage

from bench import broker, data
from bench.report import Result, rate
from notifier import compose
from notifier.compose import build_services
from notifier.settings import Settings
from notifier.workers.consumer import prefetch_for


def settings(url: str, names: broker.Topology) -> Settings:
    return Settings(
        database_url=url,
        amqp_url=broker.AMQP_URL,
        events_exchange=names.exchange,
        events_queue=names.queue,
        dead_letter_queue=names.dead_letter_queue,
    )


async def fill(names: broker.Topology, count: int) -> None:
    bodies = data.mixed_events(count)
    await broker.publish(names, ((e["event_type"], data.encoded(e)) for e in bodies))


async def bare(count: int, batch: int, prefetch: int) -> float:
    names = broker.topology()
    await fill(names, count)
    done = asyncio.Event()
    seen, first, start = 0, 0, 0.0

    async def on_message(message: AbstractIncomingMessage) -> None:
        nonlocal seen, first, start
        seen += 1
        if seen % batch == 0 or seen == count:
            await message.ack(multiple=True)
            if not first:  # the first batch settled: the clock starts
                first, start = seen, time.perf_counter()
        if seen == count:
            done.set()

    connection = await aio_pika.connect(broker.AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.get_queue(names.queue)
        await queue.consume(on_message)
        await asyncio.wait_for(done.wait(), timeout=900)
        elapsed = time.perf_counter() - start
    await broker.drop(names)
    if first == count:
        raise RuntimeError("one batch is too few events to time: raise the count")
    return (count - first) / elapsed


async def ours(url: str, count: int) -> tuple[float, int]:
    names = broker.topology()
    await fill(names, count)
    services = build_services(settings(url, names))
    consumer = compose.build_consumer(services)
    database = await asyncpg.connect(url)
    task = asyncio.create_task(consumer.run())

    async def settled() -> int:
        return consumer.acknowledged

    try:
        async with asyncio.timeout(900):
            our_rate = await settled_rate(settled, count)
        stored = await database.fetchval("SELECT count(*) FROM processed_events")
        if stored != count:
            raise RuntimeError(f"{count} events settled but {stored} stored")
        rows = await database.fetchval("SELECT count(*) FROM outbox")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await database.close()
        await services.engine.dispose()
        await broker.drop(names)
    return our_rate, rows


async def settled_rate(settled: Callable[[], Awaitable[int]], count: int) -> float:
    """Messages per second from the first batch seen settled to the last."""
    first, start = 0, 0.0
    while (now := await settled()) < count:
        if not first and now:
            first, start = now, time.perf_counter()
        await asyncio.sleep(0.01)
    if not first:  # all of it settled between two looks: no interval to time
        raise RuntimeError("too few events to time: raise --events")
    return (count - first) / (time.perf_counter() - start)


async def measure(users: int, events: int) -> Result:
    url = await data.dataset(users)
    defaults = Settings()
    batch = defaults.consumer_batch_size
    prefetch = prefetch_for(batch, "postgresql", defaults.consumer_prefetch)
    baseline = await bare(events, batch, prefetch)
    our_rate, rows = await ours(url, events)
    result = rate("consumer", our_rate, baseline, "events/s", "≥ 0.7")
    result.details = {
        "events": events,
        "users": users,
        "outbox_rows": rows,
        "recipients_per_event": round(rows / events, 1),
        "event_types": "mixed by bench.data.EVENT_WEIGHTS",
        "baseline": f"bare aio-pika, ack multiple every {batch}, prefetch {prefetch}",
    }
    return result
