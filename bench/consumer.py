"""How fast the consumer is next to bare aio-pika, on the real broker.

    .venv/bin/python -m bench.consumer [--events 20000] [--database-url sqlite:///…]

Publishes the same number of valid events twice to queues of its own (uuid-suffixed,
deleted afterwards): once consumed by a bare aio-pika callback that only acknowledges, once
by our Consumer (validation, matching against two subscribers, processed-event and outbox
rows, ack after commit). Prints both rates and their ratio; the goal is at least 0.5.
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
from notifier.consumer import Consumer, Topology, declare
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
        for _ in range(count):
            await declared.exchange.publish(
                aio_pika.Message(event(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key="payment.disbursed",
            )


async def drop(names: Topology) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(names.queue)
        await channel.queue_delete(names.dead_letter_queue)
        await channel.exchange_delete(names.exchange)


async def bare(count: int, prefetch: int, *, no_ack: bool) -> float:
    names = topology()
    await publish(names, count)
    done = asyncio.Event()
    seen = 0

    async def on_message(message: AbstractIncomingMessage) -> None:
        nonlocal seen
        if not no_ack:
            await message.ack()
        seen += 1
        if seen == count:
            done.set()

    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.get_queue(names.queue)
        start = time.perf_counter()
        await queue.consume(on_message, no_ack=no_ack)
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - start
    await drop(names)
    return count / elapsed


async def ours(count: int, database_url: str, batch_size: int) -> float:
    names = topology()
    await publish(names, count)
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
    task = asyncio.create_task(consumer.run())
    start = time.perf_counter()
    while consumer.acknowledged < count:
        await asyncio.sleep(0.01)
        if time.perf_counter() - start > 600:
            raise TimeoutError("the consumer did not finish in 10 minutes")
    elapsed = time.perf_counter() - start
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await engine.dispose()
    await drop(names)
    return count / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        acked = await bare(args.events, 2 * args.batch_size, no_ack=False)
        print(f"bare aio-pika, ack each: {acked:8.0f} events/s")
        unacked = await bare(args.events, 2 * args.batch_size, no_ack=True)
        print(f"bare aio-pika, no_ack:   {unacked:8.0f} events/s")
        # The stricter comparison: the faster of the two bare ways.
        bare_rate = max(acked, unacked)
        our_rate = await ours(args.events, url, args.batch_size)
        print(f"our consumer:            {our_rate:8.0f} events/s  ({url.split(':')[0]})")
        print(f"ratio to the faster:     {our_rate / bare_rate:8.2f}  (goal: at least 0.50)")


if __name__ == "__main__":
    asyncio.run(main())
