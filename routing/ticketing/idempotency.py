"""Idempotency-Key on POST /api/v1/support/tickets: a retried POST finds the ticket its
first attempt opened; the same key with another inquiry is refused, never a new ticket."""

import hashlib
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.decision.schemas import Inquiry
from routing.ticketing.models import Ticket
from routing.ticketing.tickets import TicketError, stored_inquiry


def idempotency_key(client_key: str) -> str:
    """What is stored for a client's Idempotency-Key: its hash, so the key itself, which the
    client may reuse as a secret, is never kept."""
    return hashlib.sha256(client_key.encode()).hexdigest()


class IdempotencyKeyReused(TicketError):
    """The key already opened a ticket for another inquiry."""


async def replay(*, session: AsyncSession, key: str, inquiry: Inquiry) -> Ticket | None:
    """The ticket this key opened, if the inquiry is the same one; None if the key is new.

    The same key with another inquiry is a client's mistake, not a new ticket (and never
    shows the other ticket): IdempotencyKeyReused.
    """
    result = await session.exec(select(Ticket).where(Ticket.idempotency_key == key))
    earlier = result.first()
    if earlier is None:
        return None
    if _comparable(earlier.inquiry) != _comparable(stored_inquiry(inquiry)):
        raise IdempotencyKeyReused(
            "Idempotency-Key har redan använts för en annan fråga. Använd en ny nyckel för "
            "en ny fråga."
        )
    return earlier


def _comparable(stored: dict[str, Any]) -> dict[str, Any]:
    # A retry is the same question asked again, possibly stamped at another moment.
    return {name: value for name, value in stored.items() if name != "asked_at"}
