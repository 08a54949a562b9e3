"""Queues of the benchmarks' own on the shared broker: declared with the consumer's own
`declare` (so the bare baseline consumes a queue of the same shape), filled with confirmed
publishes, deleted afterwards."""

import asyncio
import uuid
from collections.abc import Iterable

import aio_pika

from notifier.workers.broker import Topology, declare

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
FLIGHT = 500  # confirmed publishes in flight: one at a time made setup the slowest part


def topology() -> Topology:
    suffix = uuid.uuid4().hex[:10]
    return Topology(f"bench.events.{suffix}", f"bench.q.{suffix}", f"bench.q.{suffix}.dead")


async def publish(names: Topology, bodies: Iterable[tuple[str, bytes]]) -> None:
    """(routing key, body) pairs, persistent, each confirmed by the broker."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        exchange = (await declare(channel, names)).exchange
        flight = []
        for key, body in bodies:
            message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            flight.append(exchange.publish(message, routing_key=key))
            if len(flight) == FLIGHT:
                await asyncio.gather(*flight)
                flight = []
        await asyncio.gather(*flight)


async def drop(names: Topology) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(names.queue)
        await channel.queue_delete(names.dead_letter_queue)
        await channel.exchange_delete(names.exchange)
