"""Data functions for users, grants and subscriptions. They never commit: the caller's
request or batch is the transaction. Each write rebuilds the user's rows of the recipient
lookup (subscriptions.lookup) in that same transaction, so matching never sees them stale."""

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.organisations import OrganisationRef
from domain.sqltypes import utcnow
from subscriptions import suppressions
from subscriptions.lookup import refresh
from subscriptions.models import Delivery, PermissionGrant, Subscription, User
from subscriptions.schemas import (
    EmailStatus,
    PermissionsIn,
    SubscriptionsIn,
    SubscriptionsOut,
    SubscriptionState,
    UserIn,
    UserOut,
)


async def get_user(*, session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def _lock(session: AsyncSession, user_id: str) -> None:
    """The user's row before any of theirs, in the order the bulk load and the lookup's
    refresh take them: a write that deleted a grant or a subscription first, and then
    waited for the user's row, could deadlock with a bulk load of the same user (which
    holds the user's row and then wants those), and PostgreSQL would abort one of the two.
    SQLite has one writer and no row locks: nothing to take there."""
    await session.exec(select(User.id).where(col(User.id) == user_id).with_for_update())


async def put_user(*, session: AsyncSession, user_id: str, user_in: UserIn) -> User:
    await _lock(session, user_id)
    user = await session.get(User, user_id) or await _created(session, user_id)
    before, user.email = user.email, str(user_in.email)
    user.name = user_in.name
    user.org_kind = user_in.organisation.kind
    user.org_code = user_in.organisation.code
    user.updated_at = utcnow()
    await session.flush()
    await refresh(session=session, user_ids=[user_id])  # the organisation may have changed
    if suppressions.normal(before) != suppressions.normal(user.email):
        await suppressions.lift_abandoned(session=session, emails=[before], now=utcnow())
    return user


async def _created(session: AsyncSession, user_id: str) -> User:
    """A new user's row, blank until the caller fills it in, inserted unless it exists:
    a second writer creating the same user at once (another PUT, a bulk load) waits for
    the first one's commit and then updates that row, rather than failing on the key."""
    connection = await session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    now = utcnow()
    blank = {"email": "", "name": "", "org_kind": "", "org_code": ""}
    values = {"id": user_id, **blank, "created_at": now, "updated_at": now}
    await connection.execute(insert(User).values(values).on_conflict_do_nothing())
    await _lock(session, user_id)
    user = await session.get(User, user_id)
    assert user is not None  # inserted just now, or by the writer waited for
    return user


async def user_out(*, session: AsyncSession, user: User) -> UserOut:
    held = await suppressions.active(session=session, emails=[user.email])
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        organisation=OrganisationRef.model_validate({"kind": user.org_kind, "code": user.org_code}),
        email_status=EmailStatus.of(held.get(suppressions.normal(user.email))),
    )


async def delete_user(*, session: AsyncSession, user_id: str) -> bool:
    await _lock(session, user_id)
    user = await session.get(User, user_id)
    if user is None:
        return False
    # Explicit deletes rather than relying on ON DELETE CASCADE, which SQLite only
    # honours with a pragma.
    await session.exec(delete(PermissionGrant).where(col(PermissionGrant.user_id) == user_id))
    await session.exec(delete(Subscription).where(col(Subscription.user_id) == user_id))
    await session.delete(user)
    await session.flush()
    return True


async def get_permissions(*, session: AsyncSession, user_id: str) -> PermissionsIn:
    rows = await session.exec(select(PermissionGrant).where(PermissionGrant.user_id == user_id))
    return PermissionsIn.model_validate(
        {"grants": {grant.compensation_type: grant.level for grant in rows}}
    )


async def put_permissions(
    *, session: AsyncSession, user_id: str, permissions: PermissionsIn
) -> None:
    await _lock(session, user_id)
    await session.exec(delete(PermissionGrant).where(col(PermissionGrant.user_id) == user_id))
    session.add_all(
        PermissionGrant(user_id=user_id, compensation_type=ctype, level=level)
        for ctype, level in permissions.grants.items()
    )
    await session.flush()
    await refresh(session=session, user_ids=[user_id])


async def get_subscriptions(*, session: AsyncSession, user_id: str) -> SubscriptionsOut:
    rows = (
        await session.exec(
            select(Subscription)
            .where(Subscription.user_id == user_id)
            .order_by(col(Subscription.event_type))
        )
    ).all()
    user = await session.get(User, user_id)
    return SubscriptionsOut(
        state={row.event_type: "on" if row.enabled else "off" for row in rows},
        enabled=bool(rows) and all(row.enabled for row in rows),
        event_types=[row.event_type for row in rows],
        subscriptions=[SubscriptionState(event_type=r.event_type, enabled=r.enabled) for r in rows],
        delivery=Delivery(user.delivery) if user else Delivery.IMMEDIATE,
    )


async def put_subscriptions(
    *, session: AsyncSession, user_id: str, subscriptions: SubscriptionsIn
) -> None:
    await _lock(session, user_id)
    await session.exec(delete(Subscription).where(col(Subscription.user_id) == user_id))
    session.add_all(
        Subscription(user_id=user_id, event_type=event_type, enabled=subscriptions.enabled)
        for event_type in dict.fromkeys(subscriptions.event_types)
    )
    user = await session.get(User, user_id)
    if user is not None:
        user.delivery = subscriptions.delivery
    await session.flush()
    await refresh(session=session, user_ids=[user_id])


async def set_preferences(
    *, session: AsyncSession, user_id: str, wanted: set[str], delivery: Delivery
) -> None:
    """What the user chose on "Mina notifieringar": the event types in `wanted` on (added
    where missing), every other stored one off, and how they are delivered."""
    await _lock(session, user_id)
    rows = {
        row.event_type: row
        for row in await session.exec(select(Subscription).where(Subscription.user_id == user_id))
    }
    for event_type, row in rows.items():
        row.enabled = event_type in wanted
    session.add_all(
        Subscription(user_id=user_id, event_type=event_type, enabled=True)
        for event_type in sorted(wanted - set(rows))
    )
    user = await session.get(User, user_id)
    if user is not None:
        user.delivery = delivery
    await session.flush()
    await refresh(session=session, user_ids=[user_id])


async def set_subscription_enabled(
    *, session: AsyncSession, user_id: str, event_type: str, enabled: bool
) -> bool:
    """Turn one subscription on or off; False if the user has no such subscription."""
    await _lock(session, user_id)
    row = await session.get(Subscription, (user_id, event_type))
    if row is None:
        return False
    row.enabled = enabled
    await session.flush()
    await refresh(session=session, user_ids=[user_id])
    return True
