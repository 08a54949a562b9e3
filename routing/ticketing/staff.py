"""Contact-center staff accounts and their tokens.

The admin token mints an account and its token; the token is shown once and only its
SHA-256 is stored (it is 256 random bits, so a slow password hash buys nothing). Staff use
it as a Bearer token on the JSON API, or once on the login page, which then keeps a signed
session cookie.
"""

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import UTCDateTime, utcnow

STAFF_ROLE = "staff"  # may work tickets; an account without it is known but refused (403)
# Sees and works every destination's queue, and runs the operators' console: granted
# explicitly, never implied by an empty list of destinations.
OPERATOR_ROLE = "operator"
TOKEN_PREFIX = "stf_"
ACTOR_MAX = 128  # TicketEvent.actor and Ticket.assignee


class StaffAccount(SQLModel, table=True):
    __tablename__ = "staff_accounts"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    token_hash: str = Field(max_length=64, unique=True)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The queues the person sees and works; another queue's ticket does not exist for them.
    destinations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_staff(self) -> bool:
        return STAFF_ROLE in self.roles or self.is_operator

    @property
    def is_operator(self) -> bool:
        return OPERATOR_ROLE in self.roles

    @property
    def visible(self) -> frozenset[str] | None:
        """The destinations whose tickets this person may see; None: every one."""
        return None if self.is_operator else frozenset(self.destinations)

    def may_see(self, destination: str) -> bool:
        return self.is_operator or destination in self.destinations

    @property
    def actor(self) -> str:
        """How the audit trail names this person: within the trail's actor and assignee
        columns, a long name shortened and told apart by the start of the account id."""
        actor = f"staff:{self.name}"
        if len(actor) <= ACTOR_MAX:
            return actor
        suffix = f"… ({self.id[:8]})"
        return actor[: ACTOR_MAX - len(suffix)] + suffix


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def mint(
    *, session: AsyncSession, name: str, roles: list[str], destinations: list[str]
) -> tuple[StaffAccount, str]:
    """A new account and its token; the token exists nowhere else after this returns."""
    token = new_token()
    account = StaffAccount(
        id=str(uuid.uuid4()),
        name=name,
        token_hash=hash_token(token),
        roles=roles,
        destinations=destinations,
    )
    session.add(account)
    await session.flush()
    return account, token


async def by_token(*, session: AsyncSession, token: str) -> StaffAccount | None:
    """The live account holding `token`, or None (unknown or revoked)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    query = select(StaffAccount).where(StaffAccount.token_hash == hash_token(token))
    account = (await session.exec(query)).first()
    return account if account and account.revoked_at is None else None


async def by_id(*, session: AsyncSession, account_id: str) -> StaffAccount | None:
    account = await session.get(StaffAccount, account_id)
    return account if account and account.revoked_at is None else None


async def list_accounts(*, session: AsyncSession) -> list[StaffAccount]:
    query = select(StaffAccount).order_by(StaffAccount.created_at)  # type: ignore[arg-type]
    return list((await session.exec(query)).all())


async def revoke(*, session: AsyncSession, account_id: str) -> bool:
    account = await session.get(StaffAccount, account_id)
    if account is None:
        return False
    if account.revoked_at is None:
        account.revoked_at = utcnow()
        session.add(account)
    return True


def public(account: StaffAccount) -> dict[str, Any]:
    """What the admin API shows of an account: never the hash."""
    return {
        "id": account.id,
        "name": account.name,
        "roles": account.roles,
        "destinations": account.destinations,
        "created_at": account.created_at,
        "revoked_at": account.revoked_at,
    }
