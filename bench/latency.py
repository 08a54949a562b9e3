"""Latency at a steady rate: events published at `rate` per second for `seconds` into
`notifier serve` (a real subprocess, default settings), each email timed from its event's
publish to its receipt at the SMTP sink (the sink logs the moment and the Message-ID,
which names the event). Baseline, same run and rate: the broker's own publish → consume
latency to a bare aio-pika consumer (acking each message, at the consumer's prefetch).

Both clocks are time.monotonic: one clock for every process of this machine."""

import asyncio
import json
import time

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from bench import broker, data
from bench.report import Result, duration
from bench.serve import Serve, drained, private
from bench.sink import Sink
from notifier.settings import Settings
from notifier.workers.broker import Topology, declare
from notifier.workers.consumer import prefetch_for

DRAIN_TIMEOUT = 900


async def steady(names: Topology, rate: float, seconds: float, seed: int) -> dict[str, float]:
    """Publish at a steady rate (confirmed, not waited for in turn); each event's moment."""
    published: dict[str, float] = {}
    connection = await aio_pika.connect(broker.AMQP_URL)
    async with connection:
        exchange = (await declare(await connection.channel(), names)).exchange
        flight = set()
        start = time.monotonic()
        for number, event in enumerate(data.events(int(rate * seconds), seed=seed)):
            # Catch up on a late wake-up rather than drift: the rate is the schedule's.
            if (delay := start + number / rate - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            message = aio_pika.Message(
                data.encoded(event), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            )
            published[event["event_id"]] = time.monotonic()
            task = asyncio.create_task(exchange.publish(message, "payment.disbursed"))
            flight.add(task)
            task.add_done_callback(flight.discard)
        await asyncio.gather(*flight)
    return published


async def bare(rate: float, seconds: float) -> list[float]:
    """Publish → consume latencies, seconds, of a bare aio-pika consumer."""
    names = broker.topology()
    received: dict[str, float] = {}

    async def on_message(message: AbstractIncomingMessage) -> None:
        received[json.loads(message.body)["event_id"]] = time.monotonic()
        await message.ack()

    defaults = Settings()
    connection = await aio_pika.connect(broker.AMQP_URL)
    try:
        async with connection:
            channel = await connection.channel()
            batch, prefetch = defaults.consumer_batch_size, defaults.consumer_prefetch
            await channel.set_qos(prefetch_count=prefetch_for(batch, "postgresql", prefetch))
            await (await declare(channel, names)).queue.consume(on_message)
            published = await steady(names, rate, seconds, seed=41)
            async with asyncio.timeout(60):
                while len(received) < len(published):  # noqa: ASYNC110 - filled by a callback
                    await asyncio.sleep(0.01)
    finally:
        await broker.drop(names)
    return [received[key] - published[key] for key in published]


async def ours(url: str, rate: float, seconds: float) -> list[float]:
    """Publish → SMTP receipt latencies, seconds, of every email of `notifier serve`."""
    names = broker.topology()
    with Sink(receipts=True) as sink:
        async with Serve(url, names, sink.port):
            published = await steady(names, rate, seconds, seed=43)
            emails = await drained(url, len(published), DRAIN_TIMEOUT)
            await sink.until(emails)
        receipts = sink.receipts()
    # The Message-ID is <event_id.user_hash@domain>.
    return [moment - published[mid[1:].split(".")[0]] for moment, mid in receipts]


def ms(values: list[float], share: float) -> float:
    """The `share` percentile of seconds, in milliseconds."""
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


async def measure(users: int, rate: float, seconds: float) -> Result:
    baseline = await bare(rate, seconds)
    async with private(users) as url:
        latencies = await ours(url, rate, seconds)
    result = duration("latency", ms(latencies, 0.99), ms(baseline, 0.99), "ms p99", "p99 < 1 s")
    result.details = {
        "rate": f"{rate:g} events/s for {seconds:g} s",
        "users": users,
        "emails": len(latencies),
        "p50_ms": ms(latencies, 0.5),
        "max_ms": ms(latencies, 1.0),
        "baseline_p50_ms": ms(baseline, 0.5),
        "baseline": "bare aio-pika consumer, publish → consume, same rate",
    }
    return result
