"""Addresses the service no longer mails after they bounced, and the bounces counted.

A suppression is per address, not per user: two users may share a functional mailbox,
and a dead mailbox is dead for both. It holds the address (it must, to work), when, the
status code and the receiving server's words with any address masked; nothing else
personal. It is lifted by an operator, or when no mirrored user has the address any
more (the e-service mirrored a new one); a lifted one is kept for the retention period,
then purged. Data functions: they never commit.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Column, ColumnElement, Index, Text, delete, func, text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import UTCDateTime, utcnow
from subscriptions.models import User

ACTIVE = "lifted_at IS NULL"


class Reason(StrEnum):
    HARD = "hard_bounce"  # one permanent failure
    SOFT = "soft_bounces"  # N temporary ones within D days


class Lifted(StrEnum):
    OPERATOR = "operator"
    ADDRESS_CHANGED = "address_changed"  # no mirrored user has the address any more


class Suppression(SQLModel, table=True):
    __tablename__ = "suppressions"
    # One live suppression per address; the sender looks its batch's addresses up here.
    __table_args__ = (
        Index(
            "ix_suppressions_active",
            "email",
            unique=True,
            postgresql_where=text(ACTIVE),
            sqlite_where=text(ACTIVE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)  # lower case
    since: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reason: str = Field(max_length=20)  # a Reason
    status: str = Field(max_length=16)  # RFC 3463, e.g. "5.1.1"
    diagnostic: str = Field(sa_column=Column(Text, nullable=False))
    outbox_id: int | None = None  # the email whose bounce suppressed it
    lifted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lifted_by: str | None = Field(default=None, max_length=20)  # a Lifted


class BounceRecord(SQLModel, table=True):
    """One bounce received: soft ones are counted per address over a window."""

    __tablename__ = "bounces"
    __table_args__ = (Index("ix_bounces_email_received", "email", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)  # lower case
    hard: bool
    status: str = Field(max_length=16)
    outbox_id: int | None = None
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def normal(email: str) -> str:
    return email.strip().lower()


async def active(*, session: AsyncSession, emails: Iterable[str]) -> dict[str, Suppression]:
    """The live suppressions of these addresses, by lower-case address."""
    wanted = sorted({normal(email) for email in emails})
    if not wanted:
        return {}
    query = select(Suppression).where(col(Suppression.email).in_(wanted), _live())
    return {row.email: row for row in await session.exec(query)}


def _live() -> ColumnElement[bool]:
    return col(Suppression.lifted_at).is_(None)


async def record_bounce(
    *,
    session: AsyncSession,
    email: str,
    hard: bool,
    status: str,
    diagnostic: str,
    outbox_id: int | None,
    soft_limit: int,
    soft_window: timedelta,
    now: datetime,
) -> Suppression | None:
    """Count the bounce; the suppression it starts, or None (none, or one already live)."""
    email = normal(email)
    session.add(
        BounceRecord(email=email, hard=hard, status=status, outbox_id=outbox_id, received_at=now)
    )
    await session.flush()
    if await active(session=session, emails=[email]):
        return None
    if not hard and await _soft_count(session, email, now - soft_window) < soft_limit:
        return None
    suppression = Suppression(
        email=email,
        since=now,
        reason=Reason.HARD if hard else Reason.SOFT,
        status=status,
        diagnostic=diagnostic,
        outbox_id=outbox_id,
    )
    session.add(suppression)
    await session.flush()
    return suppression


async def _soft_count(session: AsyncSession, email: str, after: datetime) -> int:
    """Emails that soft-bounced: a relay's second delay notice for one email counts once."""
    query = select(func.count(func.distinct(BounceRecord.outbox_id))).where(
        col(BounceRecord.email) == email,
        col(BounceRecord.hard).is_(False),
        col(BounceRecord.received_at) > after,
    )
    return int((await session.exec(query)).one())


async def users_with(*, session: AsyncSession, email: str) -> list[str]:
    """The ids of the users mirrored with this address, in any case."""
    query = select(User.id).where(func.lower(User.email) == normal(email)).order_by(col(User.id))
    return list(await session.exec(query))


async def lift(*, session: AsyncSession, email: str, by: Lifted, now: datetime) -> bool:
    """Mail this address again; False if it was not suppressed."""
    found = (await active(session=session, emails=[email])).get(normal(email))
    if found is None:
        return False
    found.lifted_at, found.lifted_by = now, by
    session.add(found)
    await session.flush()
    return True


async def stored_addresses(*, session: AsyncSession, user_ids: Iterable[str]) -> set[str]:
    """The suppressed addresses these users have now: read before they are replaced."""
    user_ids = list(user_ids)
    if not user_ids:
        return set()
    query = select(User.email).where(col(User.id).in_(user_ids))
    held = await active(session=session, emails=await session.exec(query))
    return set(held)


async def lift_abandoned(*, session: AsyncSession, emails: Iterable[str], now: datetime) -> int:
    """Lift the suppressions of these addresses that no user has any more: the e-service
    mirrored a new address for whoever had it. One a user still has (a shared mailbox)
    stays. How many were lifted."""
    lifted = 0
    for email in sorted(set(emails)):
        if not await users_with(session=session, email=email):
            lifted += await lift(session=session, email=email, by=Lifted.ADDRESS_CHANGED, now=now)
    return lifted


async def listing(
    *, session: AsyncSession, containing: str = ""
) -> list[tuple[Suppression, list[str]]]:
    """Every live suppression whose address contains `containing` (any case), oldest
    first, with the users who have the address."""
    query = select(Suppression).where(_live())
    if containing := normal(containing):
        query = query.where(col(Suppression.email).contains(containing, autoescape=True))
    rows = await session.exec(query.order_by(col(Suppression.since), col(Suppression.id)))
    return [(row, await users_with(session=session, email=row.email)) for row in rows]


async def count_active(*, session: AsyncSession) -> int:
    """How many addresses are not mailed now."""
    return int((await session.exec(select(func.count()).where(_live()))).one())


async def purge(*, session: AsyncSession, before: datetime) -> int:
    """Suppressions lifted, and bounces received, before `before`: how many rows went."""
    lifted = await session.exec(delete(Suppression).where(col(Suppression.lifted_at) < before))
    counted = await session.exec(delete(BounceRecord).where(col(BounceRecord.received_at) < before))
    return int(lifted.rowcount + counted.rowcount)


__all__ = ["BounceRecord", "Lifted", "Reason", "Suppression"]
