"""The matching query on SQLite and PostgreSQL returns only the users who get the email,
so its cost follows the recipients, not the organisation's size."""

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.compensation import ANNOUNCEMENT, PermissionLevel
from notifier import db
from subscriptions.matching import Target, keys, load_pools, match
from tests.pipeline_helpers import DYGN, FAST, GOTEBORG, MASSFLYKT, add_user

STHLM, GBG = ("kommun", "0180"), ("kommun", "1480")
PAID = "payment.disbursed"


async def crowd(engine: AsyncEngine) -> None:
    """One recipient per rule among users who miss one condition each."""
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "gets-it", grants={DYGN: "full", FAST: "summary"})
        await add_user(session, "other-type", grants={FAST: "full"})
        await add_user(session, "other-org", org=GOTEBORG, grants={DYGN: "full"})
        await add_user(session, "disabled", grants={DYGN: "full"}, enabled=False)
        await add_user(session, "unsubscribed", grants={DYGN: "full"}, subscribed=())
        await add_user(
            session, "hears-news", subscribed=(ANNOUNCEMENT,), grants={MASSFLYKT: "summary"}
        )
        await add_user(session, "news-elsewhere", org=GOTEBORG, subscribed=(ANNOUNCEMENT,))
        await session.commit()


async def lookup(engine: AsyncEngine, *targets: Target) -> list[list[tuple[str, str | None]]]:
    async with db.sessionmaker(engine)() as session:
        found = await match(session=session, targets=targets)
    return [[(r.user_id, r.level.value if r.level else None) for r in rs] for rs in found]


async def test_the_query_returns_only_the_users_who_get_the_email(engine: AsyncEngine) -> None:
    await crowd(engine)
    payment = Target(PAID, STHLM, DYGN)
    async with db.sessionmaker(engine)() as session:
        pools = await load_pools(session=session, keys=keys(payment))
    assert [r.user_id for rs in pools.by_key.values() for r in rs] == ["gets-it"]
    assert await lookup(engine, payment) == [[("gets-it", "full")]]


async def test_one_batch_matches_each_event_to_its_own_recipients(engine: AsyncEngine) -> None:
    await crowd(engine)
    assert await lookup(
        engine,
        Target(PAID, STHLM, DYGN),
        Target(PAID, STHLM, FAST),
        Target(PAID, GBG, DYGN),
        Target(PAID, STHLM, MASSFLYKT),
        Target(PAID, STHLM),
    ) == [
        [("gets-it", "full")],
        [("gets-it", "summary"), ("other-type", "full")],
        [("other-org", "full")],
        [],
        [],
    ]


async def test_announcements_reach_subscribers_with_or_without_named_grants(
    engine: AsyncEngine,
) -> None:
    await crowd(engine)
    assert await lookup(
        engine,
        Target(ANNOUNCEMENT, STHLM),
        Target(ANNOUNCEMENT, None),
        Target(ANNOUNCEMENT, STHLM, announcement_types=(MASSFLYKT, DYGN)),
        Target(ANNOUNCEMENT, None, announcement_types=(FAST,)),
    ) == [
        [("hears-news", None)],
        [("hears-news", None), ("news-elsewhere", None)],
        [("hears-news", PermissionLevel.SUMMARY.value)],
        [],
    ]
