"""Tickets, their audit trail and attachments."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from domain.sqltypes import UTCDateTime, utcnow


class TicketStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    FORWARDED = "forwarded"
    ANSWERED = "answered"
    CLOSED = "closed"
    # A mail the route sends elsewhere (the person's IT, administrator, Inera, the pages):
    # kept so staff see what came in, answered with advice, reopened by a re-route.
    DEFLECTED = "deflected"


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue", "destination", "status", "created_at"),
        Index("ix_tickets_sender", "sender", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    reference: str = Field(max_length=20, unique=True)  # what the person is shown
    status: str = Field(default=TicketStatus.NEW, max_length=20)
    destination: str = Field(max_length=40)
    assignee: str | None = Field(default=None, max_length=128)
    inquiry: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    decision: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    rule_id: str = Field(max_length=64)
    rule_version: str = Field(max_length=64)
    # sha256 of the client's Idempotency-Key and the inquiry: a retried POST finds its
    # ticket instead of opening a second one. Null for tickets from the web form.
    idempotency_key: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # "web" (the form and the API) or "email" (a support mailbox of `notifier inbound`).
    channel: str = Field(default="web", max_length=20, sa_column_kwargs={"server_default": "web"})
    subject: str | None = Field(default=None, max_length=200)  # the mail's own subject
    mailbox: str | None = Field(default=None, max_length=320)  # the support address
    sender: str | None = Field(default=None, max_length=320)  # the mail's From address


def _ticket_fk() -> Column[str]:
    return Column(
        "ticket_id", String(36), ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
    )


class TicketEvent(SQLModel, table=True):
    """The audit trail: who did what to a ticket, when and why."""

    __tablename__ = "ticket_events"
    # The trail is always read per ticket, in order.
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "at"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    ticket_id: str = Field(sa_column=_ticket_fk())
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=128)
    action: str = Field(max_length=40)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Attachment(SQLModel, table=True):
    __tablename__ = "attachments"
    # Read per ticket when it is shown or forwarded.
    __table_args__ = (Index("ix_attachments_ticket", "ticket_id"),)

    id: str = Field(primary_key=True, max_length=36)
    ticket_id: str = Field(sa_column=_ticket_fk())
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CannedAnswer(SQLModel, table=True):
    """A text staff start an answer from; seeded from the support page, then the admin's."""

    __tablename__ = "canned_answers"

    id: str = Field(primary_key=True, max_length=64)  # a slug, e.g. `webblasare`
    title: str = Field(max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
