"""Tables of the notification pipeline: events already processed and the outbox.

The outbox carries every message the service sends (notifications, forwarded tickets and
answers to tickets alike), so that one sender retries them all and none is lost.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from domain.sqltypes import UTCDateTime, utcnow


class ProcessedEvent(SQLModel, table=True):
    """One row per event_id ever processed: a redelivered event finds it and stops."""

    __tablename__ = "processed_events"

    event_id: str = Field(primary_key=True, max_length=36)
    event_type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    recipients: int = 0
    processed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanent failure or retries exhausted; kept with its reason
    CANCELLED = "cancelled"  # e.g. the recipient was deleted before sending
    HELD = "held"  # a digest item: never claimed itself, sent inside its user's digest
    BOUNCED = "bounced"  # sent, and the receiving side bounced it for good
    SUPPRESSED = "suppressed"  # never sent: the address is suppressed after bounces


class OutboxKind(StrEnum):
    NOTIFICATION = "notification"  # an application event, to one subscribed user
    TICKET = "ticket"  # a support ticket forwarded to its destination
    TICKET_ANSWER = "ticket_answer"  # staff's answer, to the person who asked
    DIGEST_ITEM = "digest_item"  # an event for a user with daily delivery, held
    DIGEST = "digest"  # one user's daily digest of their held items
    UNDELIVERABLE = "undeliverable"  # email.undeliverable, told the e-service (channel amqp)
    TEST = "test"  # an operator's test send of a template, never to a user


_LIVE = "('pending', 'held')"  # OutboxStatus.PENDING and HELD, as SQL


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, on both databases."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    # Each index holds only the rows its readers look for (migration 0011): the due index
    # the rows still to send or held for a digest, the ticket index the ticket forwards.
    # An event's email is found by its message id (made from the event and the user).
    __table_args__ = (
        # In the order the sender claims (next_attempt_at, id): a claim reads its rows and
        # stops, with no sort of every row of the first timestamp.
        Index("ix_outbox_due", "status", "next_attempt_at", "id", **_where(f"status IN {_LIVE}")),
        Index("ix_outbox_ticket_id", "ticket_id", **_where("ticket_id IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Deterministic per (event, user) or per ticket forward: inserting twice is impossible.
    message_id: str = Field(max_length=255, unique=True)
    channel: str = Field(default="email", max_length=10)  # "email" or "http"
    kind: str = Field(max_length=20)  # an OutboxKind
    event_id: str | None = Field(default=None, max_length=36)
    user_id: str | None = Field(default=None, max_length=128)
    ticket_id: str | None = Field(default=None, max_length=36)
    recipient: str = Field(max_length=2048)  # an email address, or a URL for "http"
    level: str | None = Field(default=None, max_length=10)  # grant in force when matched
    subject: str | None = Field(default=None, sa_column=Column(Text))
    body_text: str | None = Field(default=None, sa_column=Column(Text))
    body_html: str | None = Field(default=None, sa_column=Column(Text))
    headers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING, max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(slots=True)
class Claimed:
    """An outbox row as the sender holds it while sending: a plain object, so that what
    preparing puts into it (a rendered email) is never written back by an ORM flush, and
    cheap to make (an ORM instance cost more than rendering its email)."""

    id: int
    message_id: str
    channel: str
    kind: str
    event_id: str | None
    user_id: str | None
    ticket_id: str | None
    recipient: str
    level: str | None
    subject: str | None
    body_text: str | None
    body_html: str | None
    headers: dict[str, str]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
