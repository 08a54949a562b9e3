"""The recipient lookup (recipient_keys): who may hear of what, kept row by row with the
grants and subscriptions it derives from, so one event's lookup reads only its recipients.

A row per (enabled subscription, grant) of a user, under the user's organisation: the
subscribers of an event type holding a grant of a compensation type, with what an outbox
row needs of the user (level, address, name, delivery), so the lookup reads no user row.
Announcements without compensation types need no grant, so each enabled announcement
subscription also has a row with compensation type NO_GRANT (""). The rows are derived,
never edited: every write of users, grants or subscriptions calls `refresh` for the users
it touched, in the same transaction, and the property test (tests/test_lookup_agrees.py)
holds them to the pure rule in subscriptions.matching. Deleting a user deletes their rows
by the foreign key's ON DELETE CASCADE (SQLite's is on: notifier.db sets the pragma).
"""

from collections.abc import Collection

from sqlalchemy import Insert, Select, and_, delete, literal, null, select, union_all
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import ANNOUNCEMENT
from subscriptions.models import (
    NO_GRANT,
    RECIPIENT_COLUMNS,
    PermissionGrant,
    RecipientKey,
    Subscription,
    User,
)

USERS, GRANTS, SUBSCRIPTIONS, KEYS = (
    User.metadata.tables[m.__tablename__]
    for m in (User, PermissionGrant, Subscription, RecipientKey)
)
KEY_COLUMNS = ("org_kind", "org_code", "event_type", "compensation_type", "user_id")
COLUMNS = (*KEY_COLUMNS, *RECIPIENT_COLUMNS)


def derive(user_ids: Collection[str] | None = None) -> Insert:
    """INSERT … SELECT of the rows of `user_ids` (every user when None), set-wise."""
    user, sub, grant = USERS.c, SUBSCRIPTIONS.c, GRANTS.c
    enabled = and_(sub.user_id == user.id, sub.enabled.is_(True))
    granted: Select[tuple[object, ...]] = (
        select(user.org_kind, user.org_code, sub.event_type, grant.compensation_type)
        .add_columns(user.id, grant.level, user.email, user.name, user.delivery)
        .select_from(USERS)
        .join(SUBSCRIPTIONS, enabled)
        .join(GRANTS, grant.user_id == user.id)
    )
    open_news: Select[tuple[object, ...]] = (
        select(user.org_kind, user.org_code, sub.event_type, literal(NO_GRANT))
        .add_columns(user.id, null(), user.email, user.name, user.delivery)
        .select_from(USERS)
        .join(SUBSCRIPTIONS, and_(enabled, sub.event_type == ANNOUNCEMENT))
    )
    if user_ids is not None:
        granted = granted.where(user.id.in_(user_ids))
        open_news = open_news.where(user.id.in_(user_ids))
    return KEYS.insert().from_select(COLUMNS, union_all(granted, open_news))


async def refresh(*, session: AsyncSession, user_ids: Collection[str]) -> None:
    """Rebuild the rows of these users from what is stored now (flushed); never commits."""
    if not user_ids:
        return
    ids = sorted(user_ids)
    # Two writers of one user (say grants and subscriptions) would each derive from the
    # other's state as it was; locking the user's row makes the later one wait, and its
    # statements then read what the earlier one committed (READ COMMITTED).
    await session.exec(orm_select(User.id).where(col(User.id).in_(ids)).with_for_update())
    await session.exec(delete(KEYS).where(KEYS.c.user_id.in_(ids)))
    await session.exec(derive(ids))
