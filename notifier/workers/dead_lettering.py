"""Dead-lettering: a message that is no valid event goes to the dead-letter queue with
why, when and what it was, and the original is acknowledged only once the broker has
confirmed the dead letter in its queue. Used by the consumer and by the move of a classic
dead-letter queue (notifier.workers.dead_letter_queue_type)."""

import json

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from pamqp.commands import Basic

from domain.sqltypes import utcnow
from notifier.workers.broker import EVENT_ID_HEADER, REASON_HEADER, ROUTING_KEY_HEADER, TIME_HEADER

# A quorum queue confirms once a majority of its nodes hold the message; without a
# majority it does not confirm at all, and the original must not be acknowledged.
CONFIRM_TIMEOUT = 30.0


class DeadLetterNotSafe(RuntimeError):
    """The broker did not confirm a dead letter into its queue (returned as unroutable,
    refused, or no answer): the original stays unacknowledged, for the broker to deliver
    again."""


async def publish_safely(
    channel: AbstractChannel, message: aio_pika.Message, *, queue: str
) -> None:
    """Publish to `queue` through the default exchange; return only once the broker has
    confirmed it there. The channel must have publisher confirms: without them nothing
    here can tell."""
    try:
        confirmation = await channel.default_exchange.publish(
            message, routing_key=queue, mandatory=True, timeout=CONFIRM_TIMEOUT
        )
    except (aio_pika.exceptions.DeliveryError, TimeoutError) as exc:
        raise DeadLetterNotSafe(f"{queue}: {type(exc).__name__}") from exc
    # A returned message (unroutable) is confirmed too, on a channel that does not raise
    # on returns: only an Ack means the queue has it.
    if not isinstance(confirmation, Basic.Ack):
        raise DeadLetterNotSafe(f"{queue}: not confirmed ({type(confirmation).__name__})")


async def dead_letter(
    channel: AbstractChannel, message: AbstractIncomingMessage, reason: str, *, queue: str
) -> None:
    """Publish to the dead-letter queue with why, when and what it was, then acknowledge
    the original: only once the broker confirmed the dead letter in its queue (else
    DeadLetterNotSafe, the original unacknowledged)."""
    headers = dict(message.headers or {}) | {
        REASON_HEADER: reason,
        ROUTING_KEY_HEADER: message.routing_key or "",
        EVENT_ID_HEADER: _event_id(message.body),
        TIME_HEADER: utcnow().isoformat(timespec="seconds"),
    }
    copy = aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
    )
    await publish_safely(channel, copy, queue=queue)
    await message.ack()


def _event_id(body: bytes) -> str:
    """The event id of a message that is no valid event, where one can be read."""
    try:
        value = json.loads(body)
    except ValueError:
        return ""
    event_id = value.get("event_id") if isinstance(value, dict) else None
    return str(event_id)[:64] if event_id is not None else ""
