"""The triage desk's login sessions, kept server-side.

The cookie holds a random session token; only its SHA-256 is stored. Logging out ends the
session at once, and so does revoking the account: a copied cookie is then worth nothing,
where a signed cookie would have stayed valid until it expired.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Column, ForeignKey, String
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import UTCDateTime, utcnow
from routing.ticketing import staff
from routing.ticketing.staff import StaffAccount


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_sessions"

    id: str = Field(primary_key=True, max_length=64)  # sha256 of the cookie's token
    account_id: str = Field(
        sa_column=Column(
            "account_id",
            String(36),
            ForeignKey("staff_accounts.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def _id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(*, session: AsyncSession, account: StaffAccount, lasts: timedelta) -> str:
    """A new session for `account`; the token exists only in the cookie after this."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(id=_id(token), account_id=account.id, expires_at=utcnow() + lasts))
    await session.flush()
    return token


async def account_of(*, session: AsyncSession, token: str) -> StaffAccount | None:
    """The live account of a live session, or None."""
    if not token or len(token) > 100:
        return None
    found = await session.get(StaffSession, _id(token))
    if found is None or found.ended_at is not None or found.expires_at <= utcnow():
        return None
    return await staff.by_id(session=session, account_id=found.account_id)


async def end_session(*, session: AsyncSession, token: str) -> None:
    found = await session.get(StaffSession, _id(token)) if token else None
    if found is not None and found.ended_at is None:
        found.ended_at = utcnow()
        session.add(found)
