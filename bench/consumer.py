"""The consumer (consume → validate → match → outbox commit → ack) next to a bare client
consuming the same number of messages from a queue of the same shape, acknowledging with
`ack(multiple=True)` once per batch of the consumer's size, at the consumer's prefetch.
The baseline of the target is bare aiormq, as ours reads its deliveries, parsing each
body with the same `parse_event`; bare aio-pika (its message objects, a task per
delivery, no parse) is a second row, the baseline of earlier runs. CPU seconds per 1,000
events of this process (/proc) beside each.

Events of every type, an ordinary day's mix (bench.data.mixed_events), are spread over all
organisations of the data set: about 5 recipients per event with 100,000 users, as the
issue asks. Each side is timed from its first acknowledged batch to its last, so connecting and
the first deliveries count for neither. The consumer is built by the composition root and
its progress read from its own count of acknowledged messages (stored and acknowledged): counting
its rows of processed events in the database a hundred times a second took PostgreSQL CPU
from the run it measured, which the baseline never paid.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

import aio_pika
import aiormq
import asyncpg
from aio_pika.abc import AbstractIncomingMessage
from aiormq.abc import DeliveredMessage

from bench import broker, data
from bench.report import Result, rate
from bench.smtp_raw import cpu_seconds
from notifier import compose
from notifier.compose import build_services
from notifier.outbox.events import parse_event
from notifier.settings import Settings
from notifier.workers.inbox import prefetch_for


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


Measured = tuple[float, float]  # events/s, CPU seconds per 1,000 events


async def bare_aiormq(count: int, batch: int, prefetch: int) -> Measured:
    names = broker.topology()
    await fill(names, count)
    done = asyncio.Event()
    seen, first, start, cpu = 0, 0, 0.0, 0.0
    connection = await aiormq.connect(broker.AMQP_URL)
    channel = await connection.channel()

    async def on_message(message: DeliveredMessage) -> None:
        nonlocal seen, first, start, cpu
        parse_event(message.body)
        seen += 1
        if seen % batch == 0 or seen == count:
            await channel.basic_ack(message.delivery_tag or 0, multiple=True)
            if not first:  # the first batch settled: the clock starts
                first, start, cpu = seen, time.perf_counter(), cpu_seconds()
        if seen == count:
            done.set()

    try:
        await channel.basic_qos(prefetch_count=prefetch)
        await channel.basic_consume(names.queue, on_message)
        await asyncio.wait_for(done.wait(), timeout=900)
        elapsed, used = time.perf_counter() - start, cpu_seconds() - cpu
    finally:
        await connection.close()
    await broker.drop(names)
    if first == count:
        raise RuntimeError("one batch is too few events to time: raise the count")
    return (count - first) / elapsed, used / (count - first) * 1000


async def bare(count: int, batch: int, prefetch: int) -> Measured:
    names = broker.topology()
    await fill(names, count)
    done = asyncio.Event()
    seen, first, start, cpu = 0, 0, 0.0, 0.0

    async def on_message(message: AbstractIncomingMessage) -> None:
        nonlocal seen, first, start, cpu
        seen += 1
        if seen % batch == 0 or seen == count:
            await message.ack(multiple=True)
            if not first:  # the first batch acknowledged: the clock starts
                first, start, cpu = seen, time.perf_counter(), cpu_seconds()
        if seen == count:
            done.set()

    connection = await aio_pika.connect(broker.AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.get_queue(names.queue)
        await queue.consume(on_message)
        await asyncio.wait_for(done.wait(), timeout=900)
        elapsed, used = time.perf_counter() - start, cpu_seconds() - cpu
    await broker.drop(names)
    if first == count:
        raise RuntimeError("one batch is too few events to time: raise the count")
    return (count - first) / elapsed, used / (count - first) * 1000


async def ours(url: str, count: int) -> tuple[float, int, float]:
    names = broker.topology()
    await fill(names, count)
    services = build_services(settings(url, names))
    consumer = compose.build_consumer(services)
    database = await asyncpg.connect(url)
    task = asyncio.create_task(consumer.run())

    async def acknowledged() -> int:
        return consumer.acknowledged

    try:
        async with asyncio.timeout(900):
            cpu = cpu_seconds()
            our_rate = await acknowledged_rate(acknowledged, count)
            used = cpu_seconds() - cpu
        stored = await database.fetchval("SELECT count(*) FROM processed_events")
        if stored != count:
            raise RuntimeError(f"{count} events acknowledged but {stored} stored")
        rows = await database.fetchval("SELECT count(*) FROM outbox")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await database.close()
        await services.engine.dispose()
        await broker.drop(names)
    return our_rate, rows, used / count * 1000


async def acknowledged_rate(acknowledged: Callable[[], Awaitable[int]], count: int) -> float:
    """Messages per second from the first batch seen acknowledged to the last."""
    first, start = 0, 0.0
    while (now := await acknowledged()) < count:
        if not first and now:
            first, start = now, time.perf_counter()
        await asyncio.sleep(0.01)
    if not first:  # all of it acknowledged between two looks: no interval to time
        raise RuntimeError("too few events to time: raise --events")
    return (count - first) / (time.perf_counter() - start)


async def measure(users: int, events: int) -> list[Result]:
    url = await data.dataset(users)
    defaults = Settings()
    batch = defaults.consumer_batch_size
    prefetch = prefetch_for(batch, "postgresql", defaults.consumer_prefetch)
    aiormq_rate, aiormq_cpu = await bare_aiormq(events, batch, prefetch)
    pika_rate, pika_cpu = await bare(events, batch, prefetch)
    our_rate, rows, our_cpu = await ours(url, events)
    common = {
        "events": events,
        "users": users,
        "outbox_rows": rows,
        "recipients_per_event": round(rows / events, 1),
        "event_types": "mixed by bench.data.EVENT_WEIGHTS",
        "cpu_s_per_1000_ours": round(our_cpu, 3),
    }
    result = rate("consumer", our_rate, aiormq_rate, "events/s", "≥ 0.8")
    result.details = common | {
        "cpu_s_per_1000_baseline": round(aiormq_cpu, 3),
        "baseline": f"bare aiormq + parse_event, ack multiple every {batch}, prefetch {prefetch}",
    }
    earlier = rate("consumer vs aio-pika", our_rate, pika_rate, "events/s", "(earlier baseline)")
    earlier.details = common | {
        "cpu_s_per_1000_baseline": round(pika_cpu, 3),
        "baseline": f"bare aio-pika, no parse, ack multiple every {batch}, prefetch {prefetch}",
    }
    return [result, earlier]
