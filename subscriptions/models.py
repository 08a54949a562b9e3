"""Tables for users, permission grants and subscriptions.

User ids are given by the e-service, which owns the users; we mirror them.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, PrimaryKeyConstraint, String, text
from sqlmodel import Field, SQLModel

from domain.sqltypes import UTCDateTime, utcnow


class Delivery(StrEnum):
    """How a user's notifications reach them (docs/contracts.md §3)."""

    IMMEDIATE = "immediate"  # one email per event
    DAILY = "daily"  # one digest a day


class User(SQLModel, table=True):
    __tablename__ = "users"
    # Matching scans one organisation's users by id in this index (subscriptions.matching).
    __table_args__ = (Index("ix_users_org_id", "org_kind", "org_code", "id"),)

    id: str = Field(primary_key=True, max_length=128)
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    org_kind: str = Field(max_length=10)
    org_code: str = Field(max_length=4)
    # A server default, so rows inserted without it (bulk loads, COPY) are immediate.
    delivery: str = Field(
        default=Delivery.IMMEDIATE,
        sa_column=Column(String(10), nullable=False, server_default=text("'immediate'")),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _user_fk() -> Column[str]:
    return Column(
        "user_id",
        String(128),
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    )


class PermissionGrant(SQLModel, table=True):
    __tablename__ = "permission_grants"
    # Matching probes a user's grant of one type and reads its level from this index alone;
    # no index leads with the type, so the planner never scans every holder of a type.
    __table_args__ = (Index("ix_permission_grants_probe", "user_id", "compensation_type", "level"),)

    user_id: str = Field(sa_column=_user_fk())
    compensation_type: str = Field(primary_key=True, max_length=64)
    level: str = Field(max_length=10)


class Subscription(SQLModel, table=True):
    __tablename__ = "subscriptions"
    # Matching probes a user's subscription (by organisation), or scans one event type's
    # subscribers (an announcement to all); both answered from the index alone.
    __table_args__ = (
        Index("ix_subscriptions_probe", "user_id", "event_type", "enabled"),
        Index("ix_subscriptions_event_type", "event_type", "enabled", "user_id"),
    )

    user_id: str = Field(sa_column=_user_fk())
    event_type: str = Field(primary_key=True, max_length=64)
    enabled: bool = True


# The compensation type of a lookup row that needs no grant (an announcement to all its
# subscribers): a key column cannot be NULL, and the same range scan must find it.
NO_GRANT = ""


# What the lookup returns besides its key: all an outbox row needs of its recipient.
RECIPIENT_COLUMNS = ("level", "email", "name", "delivery")


class RecipientKey(SQLModel, table=True):
    """Who gets an event: derived from the three tables above and the user's own row
    (subscriptions.lookup).

    The primary key is the lookup: one event's (organisation, event type, compensation
    type) is one range scan of it that returns exactly the recipients. On PostgreSQL the
    key's index also carries each recipient's level, address, name and delivery (INCLUDE),
    so the scan reads that index alone: no heap page and no user row per recipient. The
    other two indexes serve an announcement to every organisation and the rebuild of one
    user's rows on each write.
    """

    __tablename__ = "recipient_keys"
    __table_args__ = (
        PrimaryKeyConstraint(
            "org_kind",
            "org_code",
            "event_type",
            "compensation_type",
            "user_id",
            postgresql_include=list(RECIPIENT_COLUMNS),
        ),
        Index("ix_recipient_keys_everywhere", "event_type", "compensation_type"),
        Index("ix_recipient_keys_user_id", "user_id"),
    )

    org_kind: str = Field(primary_key=True, max_length=10)
    org_code: str = Field(primary_key=True, max_length=4)
    event_type: str = Field(primary_key=True, max_length=64)
    compensation_type: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(sa_column=_user_fk())
    level: str | None = Field(default=None, max_length=10)
    # Copies of the user's row, rebuilt with the rest on every write of the user.
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    delivery: str = Field(max_length=10)
