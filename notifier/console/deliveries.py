"""Every email's fate: the outbox rows found by an address, a user, a diarienummer, an
event or a ticket's reference, newest first, each as an operator reads it."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, String, cast, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.outbox.models import OutboxMessage, OutboxStatus, ProcessedEvent
from routing.ticketing.models import Ticket

LIMIT = 200
# A digest item waits for its user's digest: for the person asking, it is not sent yet.
SHOWN_STATUS: dict[str, str] = {OutboxStatus.HELD: OutboxStatus.PENDING}


class Delivery(BaseModel):
    id: int
    kind: str
    channel: str
    event_id: str | None
    event_type: str | None
    user_id: str | None
    ticket_id: str | None
    recipient: str
    level: str | None
    subject: str | None
    status: str
    attempts: int
    last_error: str | None
    message_id: str
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


async def find(
    *,
    session: AsyncSession,
    email: str | None = None,
    user_id: str | None = None,
    diarienummer: str | None = None,
    event_id: str | None = None,
    reference: str | None = None,
) -> list[Delivery]:
    """The rows matching every criterion given; none given finds nothing."""
    conditions: list[ColumnElement[bool]] = []
    if email:
        conditions.append(func.lower(col(OutboxMessage.recipient)) == email.strip().lower())
    if user_id:
        conditions.append(col(OutboxMessage.user_id) == user_id)
    if event_id:
        conditions.append(col(OutboxMessage.event_id) == event_id.strip().lower())
    if diarienummer:
        conditions.append(col(OutboxMessage.event_id).in_(_events_of_case(diarienummer.strip())))
    if reference:
        tickets = select(Ticket.id).where(Ticket.reference == reference.strip().upper())
        conditions.append(col(OutboxMessage.ticket_id).in_(tickets))
    if not conditions:
        return []
    query = (
        select(OutboxMessage, ProcessedEvent.event_type)
        .outerjoin(ProcessedEvent, col(ProcessedEvent.event_id) == col(OutboxMessage.event_id))
        .where(*conditions)
        .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
        .limit(LIMIT)
    )
    return [delivery(row, event_type) for row, event_type in (await session.exec(query)).all()]


def _events_of_case(diarienummer: str) -> Any:
    # The JSON path reads alike on SQLite (json_extract) and PostgreSQL (->>).
    path = ProcessedEvent.__table__.c.payload[("case", "diarienummer")]  # type: ignore[attr-defined]
    return select(ProcessedEvent.event_id).where(cast(path.as_string(), String) == diarienummer)


def delivery(row: OutboxMessage, event_type: str | None) -> Delivery:
    assert row.id is not None
    return Delivery(
        id=row.id,
        kind=row.kind,
        channel=row.channel,
        event_id=row.event_id,
        event_type=event_type,
        user_id=row.user_id,
        ticket_id=row.ticket_id,
        recipient=row.recipient,
        level=row.level,
        subject=row.subject,
        status=SHOWN_STATUS.get(row.status, row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        message_id=row.message_id,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
    )
