"""`notifier dead-letters migrate`: the dead-letter queue of an older deployment, a classic
queue on one node, made the replicated quorum queue that notifier.workers.broker declares.

RabbitMQ cannot change a queue's type in place, and the name is the contract's, so the
messages move through a quorum queue of their own (`<name>.migrating`): each published
with confirms and acknowledged only once confirmed, the classic queue deleted once empty,
the quorum queue declared under the name, the messages moved back. A run stopped halfway
is finished by the next one. Consumers must be stopped meanwhile: a dead letter that
arrives while the name has no queue would be unroutable (and, from the broker's own
delivery limit, dropped)."""

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection

from notifier.workers.broker import Topology, connect_once, dead_letter_arguments, declare
from notifier.workers.dead_lettering import publish_safely


async def is_classic(connection: AbstractConnection, queue: str) -> bool:
    """Whether `queue` exists as another type than quorum (asked on a channel of its own:
    the broker closes a channel whose declaration it refuses)."""
    channel = await connection.channel()
    try:
        await channel.declare_queue(queue, durable=True, arguments=dead_letter_arguments())
    except aio_pika.exceptions.ChannelPreconditionFailed:
        return True
    await channel.close()
    return False


async def migrate(url: str, topology: Topology) -> int:
    """Make the dead-letter queue a quorum queue, keeping every message; how many moved."""
    name, parking = topology.dead_letter_queue, f"{topology.dead_letter_queue}.migrating"
    connection = await connect_once(url)
    async with connection:
        moved = 0
        if await is_classic(connection, name):
            channel = await _confirming(connection)
            await channel.declare_queue(parking, durable=True, arguments=dead_letter_arguments())
            moved = await _move(channel, name, parking)
            await channel.queue_delete(name, if_empty=True)
            # A channel that published to the classic queue must not publish to the
            # quorum queue of the same name (RabbitMQ 3.10 closes the connection).
            await channel.close()
        channel = await _confirming(connection)
        await declare(channel, topology)
        if await _exists(connection, parking):
            await _move(channel, parking, name)
            # Only this command publishes to it, and it is empty now (a quorum queue
            # cannot be deleted `if_empty`).
            await channel.queue_delete(parking)
    return moved


async def _confirming(connection: AbstractConnection) -> AbstractChannel:
    return await connection.channel(publisher_confirms=True, on_return_raises=True)


async def _exists(connection: AbstractConnection, queue: str) -> bool:
    channel = await connection.channel()
    try:
        await channel.declare_queue(queue, passive=True)
    except aio_pika.exceptions.ChannelNotFoundEntity:
        return False
    await channel.close()
    return True


async def _move(channel: AbstractChannel, source: str, target: str) -> int:
    """Every message of `source` into `target`, in order, each acknowledged only after
    the broker confirmed its copy."""
    queue = await channel.declare_queue(source, passive=True)
    moved = 0
    while (message := await queue.get(no_ack=False, fail=False, timeout=10)) is not None:
        copy = aio_pika.Message(
            message.body,
            headers=dict(message.headers or {}),
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            timestamp=message.timestamp,
        )
        await publish_safely(channel, copy, queue=target)
        await message.ack()
        moved += 1
    return moved
