"""Data functions for users, grants and subscriptions. They never commit: the caller's
request or batch is the transaction."""

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.organisations import OrganisationRef
from domain.sqltypes import utcnow
from subscriptions.models import PermissionGrant, Subscription, User
from subscriptions.schemas import (
    Delivery,
    PermissionsIn,
    SubscriptionsIn,
    SubscriptionsOut,
    SubscriptionState,
    UserIn,
    UserOut,
)


async def get_user(*, session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def put_user(*, session: AsyncSession, user_id: str, user_in: UserIn) -> User:
    user = await session.get(User, user_id)
    if user is None:
        user = User(id=user_id, email="", name="", org_kind="", org_code="")
        session.add(user)
    user.email = str(user_in.email)
    user.name = user_in.name
    user.org_kind = user_in.organisation.kind
    user.org_code = user_in.organisation.code
    user.updated_at = utcnow()
    await session.flush()
    return user


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        organisation=OrganisationRef.model_validate({"kind": user.org_kind, "code": user.org_code}),
    )


async def delete_user(*, session: AsyncSession, user_id: str) -> bool:
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
    await session.exec(delete(PermissionGrant).where(col(PermissionGrant.user_id) == user_id))
    session.add_all(
        PermissionGrant(user_id=user_id, compensation_type=ctype, level=level)
        for ctype, level in permissions.grants.items()
    )
    await session.flush()


async def get_subscriptions(*, session: AsyncSession, user_id: str) -> SubscriptionsOut:
    rows = (
        await session.exec(
            select(Subscription)
            .where(Subscription.user_id == user_id)
            .order_by(col(Subscription.event_type))
        )
    ).all()
    daily = bool(rows) and all(row.delivery == Delivery.DAILY for row in rows)
    return SubscriptionsOut(
        enabled=bool(rows) and all(row.enabled for row in rows),
        event_types=[row.event_type for row in rows],
        delivery=Delivery.DAILY if daily else Delivery.IMMEDIATE,
        subscriptions=[
            SubscriptionState(event_type=r.event_type, enabled=r.enabled, delivery=r.delivery)
            for r in rows
        ],
    )


async def put_subscriptions(
    *, session: AsyncSession, user_id: str, subscriptions: SubscriptionsIn
) -> None:
    await session.exec(delete(Subscription).where(col(Subscription.user_id) == user_id))
    session.add_all(
        Subscription(
            user_id=user_id,
            event_type=event_type,
            enabled=subscriptions.enabled,
            delivery=subscriptions.delivery.value,
        )
        for event_type in dict.fromkeys(subscriptions.event_types)
    )
    await session.flush()


async def set_subscription_enabled(
    *, session: AsyncSession, user_id: str, event_type: str, enabled: bool
) -> bool:
    """Turn one subscription on or off; False if the user has no such subscription."""
    row = await session.get(Subscription, (user_id, event_type))
    if row is None:
        return False
    row.enabled = enabled
    await session.flush()
    return True
