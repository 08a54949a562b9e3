"""Two requests writing one user at once (PostgreSQL, READ COMMITTED) leave the recipient
lookup as the tables stand once both commit: the later refresh waits for the earlier. And
every write of one user takes the user's row first, as the bulk load does."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier import db
from subscriptions import store
from subscriptions.models import Delivery
from subscriptions.schemas import PermissionsIn, SubscriptionsIn, UserIn
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


WRITES: dict[str, Callable[[AsyncSession], Awaitable[object]]] = {
    "permissions": lambda session: store.put_permissions(
        session=session,
        user_id="u2",
        permissions=PermissionsIn.model_validate({"grants": {DYGN: "summary"}}),
    ),
    "subscriptions": lambda session: store.put_subscriptions(
        session=session,
        user_id="u2",
        subscriptions=SubscriptionsIn(enabled=True, event_types=["application.decided"]),
    ),
    "preferences": lambda session: store.set_preferences(
        session=session, user_id="u2", wanted=set(), delivery=Delivery.DAILY
    ),
    "one subscription": lambda session: store.set_subscription_enabled(
        session=session, user_id="u2", event_type="payment.disbursed", enabled=False
    ),
    "user": lambda session: store.put_user(
        session=session,
        user_id="u2",
        user_in=UserIn.model_validate(
            {
                "email": "ny@kommun.example.se",
                "name": "Ny",
                "organisation": {"kind": "kommun", "code": "0180"},
            }
        ),
    ),
    "delete": lambda session: store.delete_user(session=session, user_id="u2"),
}


@pytest.mark.parametrize("write", list(WRITES))
async def test_a_write_of_one_user_takes_the_users_row_before_theirs(
    engine: AsyncEngine, write: str
) -> None:
    """As the bulk load takes them (the user's row, then their grants and subscriptions):
    a write that took a grant's or a subscription's row first and then waited for the
    user's could deadlock with a bulk load of that user, and one of the two would fail."""
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "u2", grants={DYGN: "full"}, subscribed=("payment.disbursed",))
        await session.commit()
    async with engine.connect() as bulk, db.sessionmaker(engine)() as session:
        await bulk.execute(text("SELECT id FROM users WHERE id = 'u2' FOR UPDATE"))
        writing = asyncio.create_task(WRITES[write](session))
        await asyncio.sleep(0.3)  # the write is now waiting for the user's row
        assert not writing.done()
        await bulk.execute(text("SET LOCAL lock_timeout = '2s'"))
        # What the bulk load then touches: free, since the write holds none of it yet.
        await bulk.execute(text("DELETE FROM permission_grants WHERE user_id = 'u2'"))
        await bulk.execute(text("DELETE FROM subscriptions WHERE user_id = 'u2'"))
        await bulk.rollback()
        await asyncio.wait_for(writing, timeout=10)
        await session.commit()


async def test_two_writers_creating_one_user_at_once_both_succeed(engine: AsyncEngine) -> None:
    """The later waits for the earlier's commit and then updates the row it made: the
    primary key never fails a request."""

    def body(name: str) -> UserIn:
        organisation = {"kind": "kommun", "code": "0180"}
        return UserIn.model_validate(
            {"email": f"{name}@kommun.example.se", "name": name, "organisation": organisation}
        )

    maker = db.sessionmaker(engine)
    async with maker() as first, maker() as second:
        await store.put_user(session=first, user_id="new", user_in=body("forsta"))
        later = asyncio.create_task(
            store.put_user(session=second, user_id="new", user_in=body("andra"))
        )
        await asyncio.sleep(0.3)  # the second is now waiting for the first
        assert not later.done()
        await first.commit()
        await asyncio.wait_for(later, timeout=10)
        await second.commit()
    async with maker() as session:
        user = await store.get_user(session=session, user_id="new")
        assert user is not None
        assert (user.name, user.email) == ("andra", "andra@kommun.example.se")
