"""The console's own tables: the operators' audit trail and the announcements they write."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from domain.sqltypes import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    """One thing an operator did: who, what, to what, when. Never personal data beyond
    what the operator typed as a target (an event id, an announcement's id)."""

    __tablename__ = "operator_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=128)
    action: str = Field(max_length=40)
    target: str = Field(default="", max_length=255)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AnnouncementStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENT = "sent"
    CANCELLED = "cancelled"


class Announcement(SQLModel, table=True):
    """ "Aktuellt i e-tjänsten" as an operator wrote it; sending publishes one
    `service.announcement` event per organisation targeted (one with none: everyone)."""

    __tablename__ = "announcements"

    id: str = Field(primary_key=True, max_length=36)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    compensation_types: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # [{"kind", "code"}]; empty: every organisation (of `organisation_kind`, if set).
    organisations: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    organisation_kind: str | None = Field(default=None, max_length=10)
    status: str = Field(default=AnnouncementStatus.SCHEDULED, max_length=10, index=True)
    send_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    recipients: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
