"""`email.undeliverable` (docs/contracts.md §1): once per suppressed address, the e-service is told,
so that it can ask its users to correct the address in the Notifieringar tab.

The message is an outbox row of its own (channel "amqp"), written in the transaction that
suppresses the address: the sender publishes it like any other row, retried while the
broker is away, never lost.
"""

import json

from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.outbox.models import OutboxKind, OutboxMessage
from subscriptions import suppressions
from subscriptions.suppressions import Suppression

CHANNEL = "amqp"
ROUTING_KEY = "email.undeliverable"


async def enqueue(*, session: AsyncSession, suppression: Suppression) -> OutboxMessage:
    """Queue the message telling the e-service that this address is no longer mailed."""
    assert suppression.id is not None  # flushed by record_bounce
    body = {
        "schema_version": 1,
        "user_ids": await suppressions.users_with(session=session, email=suppression.email),
        "email": suppression.email,
        "status": suppression.status,
        "reason": suppression.diagnostic,
        "occurred_at": suppression.since.isoformat(),
    }
    row = OutboxMessage(
        message_id=f"undeliverable.{suppression.id}",
        channel=CHANNEL,
        kind=OutboxKind.UNDELIVERABLE,
        recipient=ROUTING_KEY,
        body_text=json.dumps(body, ensure_ascii=False),
    )
    session.add(row)
    await session.flush()
    return row
