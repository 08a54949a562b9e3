"""Two requests writing one user at once (PostgreSQL, READ COMMITTED) leave the recipient
lookup as the tables stand once both commit: the later refresh waits for the earlier."""

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier import db
from subscriptions import store
from subscriptions.schemas import PermissionsIn, SubscriptionsIn
from tests.factories import DYGN, add_user
from tests.test_lookup_agrees import _derived_rows, _lookup_rows


@pytest.fixture
def engine(postgresql_only: AsyncEngine) -> AsyncEngine:
    return postgresql_only


async def test_a_grant_and_a_subscription_change_at_once_leave_no_stale_row(
    engine: AsyncEngine,
) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "u1", grants={}, subscribed=("payment.disbursed",))
        await session.commit()
    maker = db.sessionmaker(engine)
    async with maker() as first, maker() as second:
        grants = PermissionsIn.model_validate({"grants": {DYGN: "full"}})
        await store.put_permissions(session=first, user_id="u1", permissions=grants)
        subscriptions = SubscriptionsIn(enabled=True, event_types=["application.decided"])
        later = asyncio.create_task(
            store.put_subscriptions(session=second, user_id="u1", subscriptions=subscriptions)
        )
        await asyncio.sleep(0.3)  # the second is now waiting, or (unlocked) done
        await first.commit()
        await later
        await second.commit()
    rows = await _lookup_rows(engine)
    assert rows == await _derived_rows(engine)
    assert [row[2:4] for row in rows] == [("application.decided", DYGN)]
