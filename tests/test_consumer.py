"""The consumer against the real RabbitMQ, on SQLite and PostgreSQL.

Every test declares its own exchange and queues (a uuid suffix) and deletes them
afterwards: the real `notifier.events` queue is never consumed here.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from notifier import db
from notifier.app import create_app
from notifier.compose import Role, build_services
from notifier.outbox.models import ProcessedEvent
from notifier.settings import Settings
from notifier.workers.broker import REASON_HEADER, BrokerUnavailable, Topology, declare
from notifier.workers.consumer import Consumer
from tests.conftest import AMQP_URL
from tests.pipeline_helpers import (
    DYGN,
    add_user,
    encode,
    event_body,
    eventually,
    message_count,
    outbox,
    running,
    settled,
)


@pytest.fixture
async def people(engine: AsyncEngine) -> AsyncEngine:
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "full", grants={DYGN: "full"})
        await add_user(session, "summary", grants={DYGN: "summary"})
        await session.commit()
    return engine


def consumer_for(engine: AsyncEngine, topology: Topology, url: str = AMQP_URL) -> Consumer:
    return Consumer(
        amqp_url=url,
        engine=engine,
        sessions=db.sessionmaker(engine),
        topology=topology,
        batch_size=100,
        batch_wait=0.02,
    )


async def publish(
    amqp: AbstractRobustConnection, topology: Topology, *bodies: bytes, key: str = "x"
) -> None:
    channel = await amqp.channel()
    exchange = await channel.get_exchange(topology.exchange)
    for body in bodies:
        message = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await exchange.publish(message, routing_key=key)
    await channel.close()


async def drain(amqp: AbstractRobustConnection, queue_name: str) -> list[AbstractIncomingMessage]:
    channel = await amqp.channel()
    queue = await channel.get_queue(queue_name)
    found = []
    while (message := await queue.get(no_ack=True, fail=False, timeout=5)) is not None:
        found.append(message)
    await channel.close()
    return found


async def processed(engine: AsyncEngine) -> int:
    async with db.sessionmaker(engine)() as session:
        return (await session.exec(select(func.count()).select_from(ProcessedEvent))).one()


async def test_an_event_becomes_outbox_rows_and_is_acknowledged(
    people: AsyncEngine, amqp: AbstractRobustConnection, topology: Topology
) -> None:
    body = event_body("payment.disbursed")
    consumer = consumer_for(people, topology)
    async with running(consumer):
        await publish(amqp, topology, encode(body), key="payment.disbursed")

        await settled(consumer, 1)
    assert await message_count(amqp, topology.queue) == 0  # nothing left unacknowledged
    rows = await outbox(people)
    assert {(r.user_id, r.level) for r in rows} == {("full", "full"), ("summary", "summary")}


async def test_invalid_messages_are_dead_lettered_and_the_next_event_goes_through(
    people: AsyncEngine, amqp: AbstractRobustConnection, topology: Topology
) -> None:
    missing = event_body("payment.disbursed")
    del missing["payment"], missing["occurred_at"]
    valid = event_body("payment.disbursed")
    consumer = consumer_for(people, topology)
    async with running(consumer) as task:
        await publish(amqp, topology, b"{not json", encode(missing), encode(valid))

        await settled(consumer, 3)
        assert not task.done()  # the consumer lives on
    dead = await drain(amqp, topology.dead_letter_queue)
    reasons = [str((m.headers or {})[REASON_HEADER]) for m in dead]
    assert reasons[0] == "not valid JSON"
    assert reasons[1] == "occurred_at: Field required"
    assert dead[0].body == b"{not json"  # kept as it came, for replay
    assert (dead[1].headers or {})["x-notifier-event-id"] == missing["event_id"]
    assert len(await outbox(people)) == 2
    assert await message_count(amqp, topology.queue) == 0  # acked, never retried


async def test_the_same_event_delivered_twice_is_processed_once(
    people: AsyncEngine, amqp: AbstractRobustConnection, topology: Topology
) -> None:
    body = encode(event_body("payment.disbursed"))
    consumer = consumer_for(people, topology)
    async with running(consumer):
        await publish(amqp, topology, body, body)
        await settled(consumer, 2)
        await publish(amqp, topology, body)  # and once more, later
        await settled(consumer, 3)
    assert await message_count(amqp, topology.queue) == 0
    assert len(await outbox(people)) == 2
    assert await processed(people) == 1


async def test_a_burst_is_stored_in_batches(
    people: AsyncEngine, amqp: AbstractRobustConnection, topology: Topology
) -> None:
    bodies = [encode(event_body("payment.disbursed")) for _ in range(450)]
    consumer = consumer_for(people, topology)
    async with running(consumer):
        await publish(amqp, topology, *bodies)
        await settled(consumer, 450)
    assert await processed(people) == 450
    assert await message_count(amqp, topology.queue) == 0
    assert len(await outbox(people)) == 900


async def test_without_a_broker_the_consumer_waits_and_says_so(
    engine: AsyncEngine, topology: Topology
) -> None:
    consumer = consumer_for(engine, topology, url=f"amqp://guest:guest@127.0.0.1:{_free_port()}/")
    task = asyncio.create_task(consumer.run())
    await asyncio.sleep(0.3)
    with pytest.raises(BrokerUnavailable):
        await consumer.check()
    assert not task.done()
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


async def test_consuming_starts_by_itself_once_the_broker_answers(
    people: AsyncEngine, amqp: AbstractRobustConnection, topology: Topology
) -> None:
    """A loopback proxy stands in for a broker that comes up late."""
    port = _free_port()
    consumer = consumer_for(people, topology, url=f"amqp://guest:guest@127.0.0.1:{port}/")
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.sleep(0.5)
        assert not consumer.consuming.is_set()
        async with _proxy(port, 5672):
            await asyncio.wait_for(consumer.consuming.wait(), timeout=15)
            await consumer.check()
            await publish(amqp, topology, encode(event_body("payment.disbursed")))

            async def stored() -> bool:
                return await processed(people) == 1

            await eventually(stored, what="the event stored")
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def test_after_a_reconnect_it_consumes_on_the_new_channel_without_starting_over(
    people: AsyncEngine,
    amqp: AbstractRobustConnection,
    topology: Topology,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """aio-pika restores only the consumers it made itself; the consumer subscribes again
    on the reopened channel (starting over would log that it stopped)."""
    port = _free_port()
    consumer = consumer_for(people, topology, url=f"amqp://guest:guest@127.0.0.1:{port}/")
    task = asyncio.create_task(consumer.run())
    try:
        async with _proxy(port, 5672):
            await asyncio.wait_for(consumer.consuming.wait(), timeout=15)
            await publish(amqp, topology, encode(event_body("payment.disbursed")))
            await settled(consumer, 1)
        async with _proxy(port, 5672):  # the link dropped; the robust connection returns
            await publish(amqp, topology, encode(event_body("payment.disbursed")))

            async def stored() -> bool:
                return await processed(people) == 2

            await eventually(stored, within=20, what="the event after the reconnect")
        assert "the consumer stopped" not in caplog.text
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def test_a_failed_subscription_after_a_reconnect_starts_the_consumer_over(
    people: AsyncEngine,
    amqp: AbstractRobustConnection,
    topology: Topology,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """aio-pika swallows what its reopen callbacks raise: connected but idle, unless the
    batch loop is told."""
    consumer = consumer_for(people, topology)
    async with running(consumer) as task:
        await consumer._resubscribe(None)

        async def stopped() -> bool:
            return "consuming again" in caplog.text

        await eventually(stopped, what="the consumer to start over")
        assert not task.done()


async def test_a_batch_is_acknowledged_only_after_the_one_before_it(
    postgresql_only: AsyncEngine,
    amqp: AbstractRobustConnection,
    topology: Topology,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On PostgreSQL two batches store at once; the later one commits first here, and
    waits: its ack (multiple) would acknowledge the earlier batch's messages too. The
    broker tells: the consumer is stopped while the earlier batch is still storing, and
    every message must come back, none acknowledged."""
    consumer = consumer_for(postgresql_only, topology)
    first = asyncio.Event()
    commit = consumer._commit

    async def slow_first(events: list[Any]) -> Any:
        if not first.is_set():
            first.set()
            await asyncio.sleep(3)
        return await commit(events)

    monkeypatch.setattr(consumer, "_commit", slow_first)
    bodies = [encode(event_body("payment.disbursed")) for _ in range(150)]
    async with running(consumer):
        await publish(amqp, topology, *bodies[:100])
        await first.wait()
        await publish(amqp, topology, *bodies[100:])

        async def second_stored() -> bool:
            return await processed(postgresql_only) > 0

        await eventually(second_stored, within=2.5, what="the second batch committed")
    # Stopped while the first batch slept: it never committed, so the broker must still
    # hold all 150 messages unacknowledged and give them back.
    await eventually(
        lambda: _count_is(amqp, topology.queue, 150), what="all 150 messages back in the queue"
    )
    assert 0 < await processed(postgresql_only) < 100  # only later batches stored
    again = consumer_for(postgresql_only, topology)
    async with running(again):
        await settled(again, 150)
    assert await processed(postgresql_only) == 150
    assert await message_count(amqp, topology.queue) == 0


async def test_serve_answers_without_a_broker_and_readyz_names_it(
    engine: AsyncEngine, settings: Settings
) -> None:
    away = settings.model_copy(update={"amqp_url": f"amqp://guest:guest@127.0.0.1:{_free_port()}/"})
    services = build_services(away, engine, roles=(Role.CONSUME,))
    app = create_app(services)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
    assert response.status_code == 503
    checks: dict[str, Any] = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["rabbitmq"] == "unavailable: BrokerUnavailable"


async def test_the_declared_topology_follows_the_contract(
    amqp: AbstractRobustConnection, topology: Topology
) -> None:
    channel = await amqp.channel()
    declared = await declare(channel, topology)
    await declare(channel, topology)  # declaring again is harmless
    exchange = await channel.get_exchange(topology.exchange)
    await exchange.publish(aio_pika.Message(b"{}"), routing_key="payment.disbursed")
    await eventually(lambda: _count_is(amqp, topology.queue, 1), what="the message routed by '#'")
    assert declared.queue.arguments is not None
    assert declared.queue.arguments["x-queue-type"] == "quorum"
    assert declared.queue.arguments["x-dead-letter-routing-key"] == topology.dead_letter_queue
    await channel.close()


async def _count_is(amqp: AbstractRobustConnection, queue: str, expected: int) -> bool:
    return await message_count(amqp, queue) == expected


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def _proxy(listen: int, target: int) -> AsyncIterator[None]:
    """Forward loopback:listen to loopback:target while the block runs."""
    pipes: set[asyncio.Task[None]] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        for task in (pipe(reader, up_writer), pipe(up_reader, writer)):
            pipes.add(asyncio.create_task(task))

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    try:
        yield
    finally:
        server.close()
        for task in pipes:
            task.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
        await server.wait_closed()


# A trigger refusing one kind of event, as a constraint might, on each backend.
POISON_TRIGGER = {
    "postgresql": (
        """
CREATE FUNCTION refuse_poison() RETURNS trigger AS $$
BEGIN
  IF NEW.payload::text LIKE '%Poison%' THEN RAISE EXCEPTION 'refused by test trigger'; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
""",
        """
CREATE TRIGGER refuse_poison BEFORE INSERT ON processed_events
  FOR EACH ROW EXECUTE FUNCTION refuse_poison()
""",
    ),
    "sqlite": (
        """
CREATE TRIGGER refuse_poison BEFORE INSERT ON processed_events
  WHEN NEW.payload LIKE '%Poison%'
  BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END
""",
    ),
}
DROP_TRIGGER = {
    "postgresql": (
        "DROP TRIGGER refuse_poison ON processed_events",
        "DROP FUNCTION refuse_poison()",
    ),
    "sqlite": ("DROP TRIGGER refuse_poison",),
}


@pytest.fixture
async def refusing(people: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A database that refuses one kind of event, as a constraint might."""
    async with people.begin() as connection:
        for statement in POISON_TRIGGER[people.dialect.name]:
            await connection.exec_driver_sql(statement)
    yield people
    async with people.begin() as connection:
        for statement in DROP_TRIGGER[people.dialect.name]:
            await connection.exec_driver_sql(statement)


async def test_an_event_the_database_refuses_is_dead_lettered_and_the_rest_stored(
    refusing: AsyncEngine, amqp: AbstractRobustConnection, topology: Topology
) -> None:
    poison = event_body("payment.disbursed", person={"name": "Poison"})
    fine = event_body("payment.disbursed")
    consumer = consumer_for(refusing, topology)
    async with running(consumer) as task:
        await publish(amqp, topology, encode(poison), encode(fine))
        await settled(consumer, 2)
        assert not task.done()
    assert {r.event_id for r in await outbox(refusing)} == {fine["event_id"]}
    [dead] = await drain(amqp, topology.dead_letter_queue)
    assert str((dead.headers or {})[REASON_HEADER]).startswith("processing failed")
    assert "refused by test trigger" in str((dead.headers or {})[REASON_HEADER])
    assert await message_count(amqp, topology.queue) == 0
