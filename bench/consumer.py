"""How fast the consumer is next to bare aio-pika, on the real broker.

    .venv/bin/python -m bench.consumer [--events 20000] [--database-url sqlite:///…]

Publishes the same number of valid events three times to queues of its own (uuid-suffixed,
deleted afterwards) on the same broker: consumed by a bare aio-pika callback that
acknowledges each message (the natural baseline), by one with no_ack, and by our Consumer
(validation, matching against two subscribers, processed-event and outbox rows, ack after
commit). Each rate is taken over the same `--events` messages after `--warmup` more, so
connecting, first deliveries and first queries count for none of them. Prints the rates
and our ratio to each bare way; the goal is at least 0.5 of the acking one.
"""

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from notifier import db
from notifier.pipeline.broker import Topology, declare
from notifier.pipeline.consumer import Consumer
from subscriptions.models import PermissionGrant, Subscription, User

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
ORG = {"kind": "kommun", "code": "0180"}
DYGN = "dygnsschablon-ensamkommande"


def topology() -> Topology:
    suffix = uuid.uuid4().hex[:10]
    return Topology(f"bench.events.{suffix}", f"bench.q.{suffix}", f"bench.q.{suffix}.dead")


def event() -> bytes:
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": str(uuid.uuid4()),
            "event_type": "payment.disbursed",
            "occurred_at": "2026-11-26T10:15:00+01:00",
            "organisation": ORG,
            "compensation_type": DYGN,
            "case": {"diarienummer": "1.1.3-2026-123456"},
            "person": {"name": "Ali Hassan"},
            "payment": {"amount_sek": "12345.50", "paid_on": "2026-11-25"},
        }
    ).encode()


async def publish(names: Topology, count: int) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        declared = await declare(channel, names)
        # Confirmed publishes in flights of 500: one at a time made the setup the slowest part.
        for start in range(0, count, 500):
            await asyncio.gather(
                *(
                    declared.exchange.publish(
                        aio_pika.Message(event(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                        routing_key="payment.disbursed",
                    )
                    for _ in range(min(500, count - start))
                )
            )


async def drop(names: Topology) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(names.queue)
        await channel.queue_delete(names.dead_letter_queue)
        await channel.exchange_delete(names.exchange)


class Clock:
    """The time between the `warmup`-th and the (`warmup` + `count`)-th settled message."""

    def __init__(self, warmup: int, count: int) -> None:
        self.warmup, self.count = warmup, count
        self.start = self.rate = 0.0
        self.done = asyncio.Event()

    def settled(self, total: int) -> None:
        if total >= self.warmup and not self.start:
            self.start = time.perf_counter()
        if total >= self.warmup + self.count and not self.done.is_set():
            self.rate = self.count / (time.perf_counter() - self.start)
            self.done.set()


async def bare(count: int, warmup: int, prefetch: int, *, no_ack: bool) -> float:
    names = topology()
    await publish(names, warmup + count)
    clock = Clock(warmup, count)
    seen = 0

    async def on_message(message: AbstractIncomingMessage) -> None:
        nonlocal seen
        if not no_ack:
            await message.ack()
        seen += 1
        clock.settled(seen)

    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.get_queue(names.queue)
        await queue.consume(on_message, no_ack=no_ack)
        await asyncio.wait_for(clock.done.wait(), timeout=600)
    await drop(names)
    return clock.rate


async def ours(count: int, warmup: int, database_url: str, batch_size: int) -> float:
    names = topology()
    await publish(names, warmup + count)
    engine = db.create_engine(database_url)
    await db.migrate(engine)
    sessions = db.sessionmaker(engine)
    async with sessions() as session:
        for user_id, level in (("bench-full", "full"), ("bench-summary", "summary")):
            if await session.get(User, user_id) is None:
                session.add(
                    User(
                        id=user_id,
                        email=f"{user_id}@example.com",
                        name=user_id,
                        org_kind=ORG["kind"],
                        org_code=ORG["code"],
                    )
                )
                await session.flush()
                session.add(PermissionGrant(user_id=user_id, compensation_type=DYGN, level=level))
                session.add(Subscription(user_id=user_id, event_type="payment.disbursed"))
        await session.commit()
    consumer = Consumer(
        amqp_url=AMQP_URL,
        engine=engine,
        sessions=sessions,
        topology=names,
        batch_size=batch_size,
    )
    clock = Clock(warmup, count)
    task = asyncio.create_task(consumer.run())
    async with asyncio.timeout(600):
        while not clock.done.is_set():
            # Acknowledgements come a batch at a time, so polling often loses nothing.
            await asyncio.sleep(0.001)
            clock.settled(consumer.acknowledged)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await engine.dispose()
    await drop(names)
    return clock.rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=1000, help="messages before timing")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        prefetch = 2 * args.batch_size  # the consumer's own default
        acked = await bare(args.events, args.warmup, prefetch, no_ack=False)
        print(f"bare aio-pika, ack each: {acked:8.0f} events/s")
        unacked = await bare(args.events, args.warmup, prefetch, no_ack=True)
        print(f"bare aio-pika, no_ack:   {unacked:8.0f} events/s")
        our_rate = await ours(args.events, args.warmup, url, args.batch_size)
        print(f"our consumer:            {our_rate:8.0f} events/s  ({url.split(':')[0]})")
        print(f"ratio to ack each:       {our_rate / acked:8.2f}  (goal: at least 0.50)")
        print(f"ratio to no_ack:         {our_rate / unacked:8.2f}")


if __name__ == "__main__":
    asyncio.run(main())
