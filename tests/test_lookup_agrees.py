"""The recipient lookup is derived data: after any sequence of writes through the store
and the bulk load, matching from it gives exactly what the pure rule gives over every user
as stored, on SQLite and PostgreSQL. Without this, a write path that forgot the lookup
would send to a revoked grant or miss a new subscriber."""

from collections.abc import Awaitable, Callable
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import ANNOUNCEMENT, PermissionLevel
from domain.sqltypes import utcnow
from notifier import db
from notifier.outbox.events import Event
from notifier.outbox.message_ids import message_id
from notifier.outbox.record import OUTBOX_TABLE, record_events, target
from subscriptions import lookup, store
from subscriptions.bulk_store import BulkUser, write_batch
from subscriptions.matching import Candidate, Recipient, Target, match, recipients
from subscriptions.models import Delivery, PermissionGrant, Subscription, User
from subscriptions.schemas import PermissionsIn, SubscriptionsIn, UserIn
from tests.conftest import _empty_tables
from tests.factories import event_body

IDS = ("u1", "u2")  # few, so that writes meet the same users
ORGS = (("kommun", "0180"), ("kommun", "1480"), ("region", "01"))
CTYPES = ("dygnsschablon-ensamkommande", "fast-arlig-ensamkommande", "schablon-anvisade-barn")
EVENTS = ("payment.disbursed", "application.decided", ANNOUNCEMENT)
LEVELS = [level.value for level in PermissionLevel]

ids, orgs, events = st.sampled_from(IDS), st.sampled_from(ORGS), st.sampled_from(EVENTS)
grants = st.dictionaries(st.sampled_from(CTYPES), st.sampled_from(LEVELS), max_size=3)
chosen_events = st.lists(events, max_size=3, unique=True)
deliveries = st.sampled_from(list(Delivery))
bulk_users = st.builds(
    lambda i, o, g, e, on, d: BulkUser(i, f"{i}@x.example.se", f"B {i}", *o, g, tuple(e), on, d),
    ids, orgs, grants, chosen_events, st.booleans(), st.sampled_from(["immediate", "daily"]),
)  # fmt: skip
operations = st.one_of(
    st.tuples(st.just("user"), ids, orgs),
    st.tuples(st.just("grants"), ids, grants),
    st.tuples(st.just("subscribe"), ids, chosen_events, st.booleans(), deliveries),
    st.tuples(st.just("toggle"), ids, events, st.booleans()),
    st.tuples(st.just("preferences"), ids, chosen_events, deliveries),
    st.tuples(st.just("delete"), ids),
    st.tuples(
        st.just("bulk"), st.lists(bulk_users, min_size=1, max_size=3, unique_by=lambda u: u.id)
    ),
)


async def _user(session: AsyncSession, user_id: str, org: tuple[str, str]) -> None:
    ref = {"kind": org[0], "code": org[1]}
    user_in = UserIn.model_validate({"email": f"{user_id}@x.example.se", "name": user_id,
                                     "organisation": ref})  # fmt: skip
    await store.put_user(session=session, user_id=user_id, user_in=user_in)


async def _apply(session: AsyncSession, op: tuple[Any, ...]) -> None:
    kind, *args = op
    if kind == "user":
        await _user(session, *args)
    elif kind == "bulk":
        await write_batch(session=session, users=args[0], now=utcnow())
    elif kind == "delete":
        await store.delete_user(session=session, user_id=args[0])
    else:
        if await session.get(User, args[0]) is None:  # the rest need the user stored
            await _user(session, args[0], ORGS[0])
        await WRITES[kind](session, *args)


WRITES: dict[str, Callable[..., Awaitable[Any]]] = {
    "grants": lambda s, u, g: store.put_permissions(
        session=s, user_id=u, permissions=PermissionsIn.model_validate({"grants": g})
    ),
    "subscribe": lambda s, u, e, on, d: store.put_subscriptions(
        session=s, user_id=u, subscriptions=SubscriptionsIn(enabled=on, event_types=e, delivery=d)
    ),
    "toggle": lambda s, u, e, on: store.set_subscription_enabled(
        session=s, user_id=u, event_type=e, enabled=on
    ),
    "preferences": lambda s, u, e, d: store.set_preferences(
        session=s, user_id=u, wanted=set(e), delivery=d
    ),
}


async def _everyone(session: AsyncSession) -> list[Candidate]:
    """Every stored user as the pure rule sees them, read from the source tables."""
    people = {}
    for u in await session.exec(select(User)):
        org, daily = (u.org_kind, u.org_code), u.delivery == Delivery.DAILY
        people[u.id] = Candidate(u.id, u.email, u.name, org, daily=daily)
    for grant in await session.exec(select(PermissionGrant)):
        people[grant.user_id].grants[grant.compensation_type] = PermissionLevel(grant.level)
    for sub in await session.exec(select(Subscription)):
        if sub.enabled:
            people[sub.user_id].subscribed.add(sub.event_type)
    return list(people.values())


def _targets() -> list[Target]:
    scopes: list[tuple[str, str] | None] = [*ORGS, None]
    found = [Target(e, org, c) for org in scopes for e in EVENTS[:2] for c in (*CTYPES, None)]
    news = [(), CTYPES[:1], CTYPES[1:]]
    return found + [Target(ANNOUNCEMENT, org, None, types) for org in scopes for types in news]


# Hypothesis as these tests need it: the same examples every run, a database per test.
DETERMINISTIC = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def _write(engine: AsyncEngine, steps: list[list[tuple[Any, ...]]]) -> None:
    """From empty tables, each step's writes in a commit of their own, as requests and
    bulk batches make them."""
    await _empty_tables(engine)
    for transaction in steps:
        async with db.sessionmaker(engine)() as session:
            for op in transaction:
                await _apply(session, op)
            await session.commit()


@settings(DETERMINISTIC, max_examples=100)
@given(steps=st.lists(st.lists(operations, min_size=1, max_size=4), min_size=1, max_size=5))
async def test_matching_from_the_lookup_equals_the_rule_after_any_writes(
    engine: AsyncEngine, steps: list[list[tuple[Any, ...]]]
) -> None:
    await _write(engine, steps)
    targets = _targets()
    async with db.sessionmaker(engine)() as session:
        found = await match(session=session, targets=targets)
        everyone = await _everyone(session)
    assert found == [recipients(t, everyone) for t in targets]
    assert await _lookup_rows(engine) == await _derived_rows(engine)


@settings(DETERMINISTIC, max_examples=40)
@given(steps=st.lists(st.lists(operations, min_size=1, max_size=4), min_size=1, max_size=4))
@example(  # an announcement naming two types, held at two levels: the higher one counts
    steps=[
        [
            ("grants", "u1", {CTYPES[1]: "summary", CTYPES[2]: "full"}),
            ("grants", "u2", {CTYPES[1]: "full", CTYPES[2]: "summary"}),
            ("subscribe", "u1", [ANNOUNCEMENT], True, Delivery.DAILY),
            ("subscribe", "u2", [ANNOUNCEMENT, EVENTS[0]], True, Delivery.IMMEDIATE),
        ]
    ]
)
async def test_the_outbox_rows_postgresql_makes_itself_follow_the_rule(
    postgresql_only: AsyncEngine, steps: list[list[tuple[Any, ...]]]
) -> None:
    """On PostgreSQL the consumer's outbox rows are made by one INSERT … SELECT per batch
    (notifier.outbox.fan_out), not by Python: each row is still the pure rule's
    recipient, with the Message-ID, kind, status and level the generic path gives."""
    engine = postgresql_only
    await _write(engine, steps)
    valid = [t for t in _targets() if t.event_type == ANNOUNCEMENT or t.compensation_type]
    events = [_event(t) for t in valid if t.organisation or t.event_type == ANNOUNCEMENT]
    async with db.sessionmaker(engine)() as session:
        everyone = await _everyone(session)
        recorded = await record_events(session=session, events=events, now=utcnow())
        await session.commit()
    expected = sorted(
        _row(event.id, r) for event in events for r in recipients(target(event), everyone)
    )
    async with engine.connect() as connection:
        stored = await connection.execute(select(*(OUTBOX_TABLE.c[c] for c in ROW_COLUMNS)))
        assert sorted(tuple(row) for row in stored) == expected
    assert recorded.messages == len(expected)
    await _empty_tables(engine)


ROW_COLUMNS = ("message_id", "user_id", "recipient", "event_id", "kind", "status", "level")


def _row(event_id: str, r: Recipient) -> tuple[Any, ...]:
    kind, status = ("digest_item", "held") if r.daily else ("notification", "pending")
    level = r.level.value if r.level else None
    return (message_id(event_id, r.user_id), r.user_id, r.email, event_id, kind, status, level)


def _event(t: Target) -> Event:
    body = event_body(t.event_type, compensation_type=t.compensation_type)
    body["organisation"] = (
        {"kind": t.organisation[0], "code": t.organisation[1]} if t.organisation else None
    )
    if t.event_type == ANNOUNCEMENT:
        body.pop("compensation_type")
        body["announcement"]["compensation_types"] = list(t.announcement_types)
    return Event.model_validate(body)


async def _lookup_rows(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        return sorted(tuple(row) for row in await connection.execute(select(*lookup.KEYS.c)))


async def _derived_rows(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    """What the lookup would hold if built anew from the source tables now."""
    async with engine.connect() as connection:
        rows = await connection.execute(lookup.derive().select)  # type: ignore[arg-type]
        return sorted(tuple(row) for row in rows)


async def test_a_bulk_load_moving_a_user_moves_their_lookup_rows(engine: AsyncEngine) -> None:
    def line(org: tuple[str, str]) -> BulkUser:
        return BulkUser("u1", "u1@x.example.se", "B", *org, {CTYPES[0]: "full"}, EVENTS[:1],
                        True, "immediate")  # fmt: skip

    for org in ORGS[:2]:  # the same grants and subscriptions: only the organisation differs
        async with db.sessionmaker(engine)() as session:
            await write_batch(session=session, users=[line(org)], now=utcnow())
            await session.commit()
    async with db.sessionmaker(engine)() as session:
        moved, left = await match(
            session=session, targets=[Target(EVENTS[0], org, CTYPES[0]) for org in ORGS[1::-1]]
        )
    assert ([r.user_id for r in moved], left) == (["u1"], [])
    assert await _lookup_rows(engine) == await _derived_rows(engine)
