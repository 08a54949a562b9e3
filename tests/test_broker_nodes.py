"""Several RabbitMQ nodes in NOTIFIER_AMQP_URL, and dead letters that are safe before the
original is acknowledged, against the real broker. A node that is down is a loopback
port nothing listens on; the three-node cluster itself is in the fault suite
(tests/faults/test_cluster.py)."""

import asyncio

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier import db, reachable
from notifier.settings import Settings
from notifier.workers.broker import (
    REASON_HEADER,
    ClassicDeadLetterQueue,
    Nodes,
    Topology,
    declare,
    node_urls,
)
from notifier.workers.consumer import Consumer
from notifier.workers.dead_letter_queue_type import migrate
from notifier.workers.dead_lettering import DeadLetterNotSafe, dead_letter
from notifier.workers.dead_letters import list_dead_letters
from tests.conftest import AMQP_URL
from tests.faults.processes import Link
from tests.pipeline_helpers import eventually, message_count, running
from tests.smtp_server import free_port


def down() -> str:
    return f"amqp://guest:guest@127.0.0.1:{free_port()}/"


@pytest.mark.parametrize(
    ("setting", "urls"),
    [
        ("amqp://a/", ("amqp://a/",)),
        ("amqp://a/, amqp://b/,amqp://c/", ("amqp://a/", "amqp://b/", "amqp://c/")),
        ("amqp://a/,", ("amqp://a/",)),
    ],
)
def test_the_setting_names_one_node_or_several(setting: str, urls: tuple[str, ...]) -> None:
    assert node_urls(setting) == urls


def test_a_setting_without_a_node_is_refused() -> None:
    with pytest.raises(ValueError, match="no RabbitMQ node"):
        node_urls(" , ")


async def test_a_node_that_is_down_is_passed_over_within_a_second() -> None:
    nodes = Nodes(f"{down()},{AMQP_URL}")
    started = asyncio.get_running_loop().time()
    connection = await nodes.connect()
    assert asyncio.get_running_loop().time() - started < 1
    assert nodes.connected_to == AMQP_URL
    await connection.close()


async def test_after_a_node_the_next_connection_tries_the_others_first() -> None:
    nodes = Nodes(f"{AMQP_URL},{AMQP_URL.replace('127.0.0.1', 'localhost')}")
    seen = []
    for _ in range(3):
        connection = await nodes.connect_once(robust=False)
        seen.append(nodes.connected_to)
        await connection.close()
    assert seen == [*nodes.urls, nodes.urls[0]]


def test_readiness_needs_one_node_of_the_cluster_to_answer() -> None:
    reachable.preflight(Settings(amqp_url=f"{down()},{AMQP_URL}"), "dead-letters")
    with pytest.raises(reachable.Unreachable, match="RabbitMQ svarar inte"):
        reachable.preflight(Settings(amqp_url=f"{down()},{down()}"), "dead-letters")


async def test_the_consumer_consumes_through_the_node_that_answers(
    engine: AsyncEngine, amqp: AbstractRobustConnection, topology: Topology
) -> None:
    consumer = Consumer(
        amqp_url=f"{down()},{AMQP_URL}",
        engine=engine,
        sessions=db.sessionmaker(engine),
        topology=topology,
    )
    async with running(consumer):
        assert consumer.node == AMQP_URL


async def test_a_consumer_whose_node_is_lost_moves_to_another_within_seconds(
    engine: AsyncEngine, amqp: AbstractRobustConnection, topology: Topology
) -> None:
    """Two "nodes": a link to the broker that is cut, and the broker itself. Cut, the
    link is refused from then on, as a dead node is: the consumer goes on through the
    other, and consumes what is published after."""
    link = Link(free_port(), ("127.0.0.1", 5672))
    await link.restore()
    via_link = AMQP_URL.replace(":5672/", f":{link.port}/")
    consumer = Consumer(
        amqp_url=f"{via_link},{AMQP_URL}",
        engine=engine,
        sessions=db.sessionmaker(engine),
        topology=topology,
    )
    async with running(consumer):
        assert consumer.node == via_link
        await link.cut()
        lost_at = asyncio.get_running_loop().time()

        async def moved() -> bool:
            return consumer.node == AMQP_URL and consumer.consuming.is_set()

        await eventually(moved, within=10, what="the consumer on the other node")
        assert asyncio.get_running_loop().time() - lost_at < 5
        channel = await amqp.channel()
        exchange = await channel.get_exchange(topology.exchange)
        await exchange.publish(aio_pika.Message(b"oops"), routing_key="payment.disbursed")
        await channel.close()

        async def consumed() -> bool:
            return consumer.acknowledged == 1

        await eventually(consumed, what="a message consumed through the other node")


async def held_message(
    amqp: AbstractRobustConnection, topology: Topology
) -> tuple[aio_pika.abc.AbstractChannel, aio_pika.abc.AbstractIncomingMessage]:
    """A message taken from the events queue and not yet acknowledged."""
    channel = await amqp.channel()  # confirms on, returns not raised: aio-pika's default
    declared = await declare(channel, topology)
    await declared.exchange.publish(aio_pika.Message(b"oops"), routing_key="x")
    message = await declared.queue.get(no_ack=False, timeout=5)
    assert message is not None
    return channel, message


async def test_an_unroutable_dead_letter_does_not_acknowledge_the_original(
    amqp: AbstractRobustConnection, topology: Topology
) -> None:
    channel, message = await held_message(amqp, topology)
    with pytest.raises(DeadLetterNotSafe):
        await dead_letter(channel, message, "not valid JSON", queue="no.such.queue")
    await channel.close()  # what is unacknowledged goes back to the queue

    async def back() -> bool:
        return await message_count(amqp, topology.queue) == 1

    await eventually(back, what="the original back in its queue")


async def test_a_dead_letter_queue_lost_meanwhile_loses_no_message(
    engine: AsyncEngine, amqp: AbstractRobustConnection, topology: Topology
) -> None:
    """The consumer's dead letter finds no queue: the original is not acknowledged, the
    consumer starts over (declaring the queue again) and the next try is confirmed."""
    consumer = Consumer(
        amqp_url=AMQP_URL, engine=engine, sessions=db.sessionmaker(engine), topology=topology
    )
    async with running(consumer):
        channel = await amqp.channel()
        await channel.queue_delete(topology.dead_letter_queue)
        exchange = await channel.get_exchange(topology.exchange)
        await exchange.publish(aio_pika.Message(b"oops"), routing_key="payment.disbursed")

        async def dead_lettered() -> bool:
            try:
                return await message_count(amqp, topology.dead_letter_queue) == 1
            except aio_pika.exceptions.ChannelNotFoundEntity:
                return False

        await eventually(dead_lettered, within=20, what="the dead letter, confirmed")
        await channel.close()
    (letter,) = await list_dead_letters(AMQP_URL, topology, limit=5)
    assert letter.reason == "not valid JSON"
    assert await message_count(amqp, topology.queue) == 0


async def test_the_dead_letter_queue_is_a_quorum_queue(
    amqp: AbstractRobustConnection, topology: Topology
) -> None:
    channel = await amqp.channel()
    await declare(channel, topology)
    with pytest.raises(aio_pika.exceptions.ChannelPreconditionFailed):
        # The same name as a classic queue: the broker refuses, it is another type.
        other = await amqp.channel()
        await other.declare_queue(
            topology.dead_letter_queue, durable=True, arguments={"x-queue-type": "classic"}
        )
    await channel.close()


async def test_a_classic_dead_letter_queue_is_named_and_migrated_with_its_messages(
    amqp: AbstractRobustConnection, topology: Topology
) -> None:
    channel = await amqp.channel()
    classic = await channel.declare_queue(topology.dead_letter_queue, durable=True)
    for n in range(3):
        body = f"oops {n}".encode()
        message = aio_pika.Message(body, headers={REASON_HEADER: f"r{n}"}, message_id=f"m{n}")
        await channel.default_exchange.publish(message, routing_key=classic.name)
    with pytest.raises(ClassicDeadLetterQueue, match="dead-letters migrate"):
        await declare(await amqp.channel(), topology)

    assert await migrate(AMQP_URL, topology) == 3
    assert await migrate(AMQP_URL, topology) == 0  # done: a second run changes nothing
    letters = await list_dead_letters(AMQP_URL, topology, limit=5)
    assert [letter.reason for letter in letters] == ["r0", "r1", "r2"]
    with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
        await message_count(amqp, f"{topology.dead_letter_queue}.migrating")
