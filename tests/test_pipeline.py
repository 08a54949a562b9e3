"""From events to outbox rows on SQLite and PostgreSQL: the issue's scenario table for
matching, idempotency and permissions in force, without the broker."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.sqltypes import utcnow
from notifier import db
from notifier.outbox.events import Event
from notifier.outbox.message_ids import message_id
from notifier.outbox.models import ProcessedEvent
from notifier.outbox.record import (
    OUTBOX_COLUMNS,
    OUTBOX_NULL,
    OUTBOX_TABLE,
    Recorded,
    record_events,
)
from subscriptions import store
from subscriptions.schemas import PermissionsIn
from tests.pipeline_helpers import (
    DYGN,
    FAST,
    GOTEBORG,
    MASSFLYKT,
    add_user,
    event_body,
    outbox,
)

ANNOUNCEMENT = "service.announcement"


Record = Callable[..., Awaitable[Recorded]]


async def record(
    engine: AsyncEngine, *bodies: dict[str, Any], now: datetime | None = None
) -> Recorded:
    async with db.sessionmaker(engine)() as session:
        events = [Event.model_validate(body) for body in bodies]
        recorded = await record_events(session=session, events=events, now=now or utcnow())
        await session.commit()
    return recorded


@pytest.fixture(name="record")
def record_fixture() -> Record:
    """`record`, for the scenario tests that take it as a fixture."""
    return record


async def recipients(engine: AsyncEngine) -> dict[str, str | None]:
    return {row.user_id or "": row.level for row in await outbox(engine)}


@pytest.fixture
async def people(engine: AsyncEngine) -> AsyncEngine:
    """One user per row of the scenario table."""
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "full", grants={DYGN: "full"})
        await add_user(session, "summary", grants={DYGN: "summary"})
        await add_user(session, "no-grant", grants={FAST: "full"})
        await add_user(session, "other-org", org=GOTEBORG, grants={DYGN: "full"})
        await add_user(
            session, "not-subscribed", grants={DYGN: "full"}, subscribed=("application.submitted",)
        )
        await add_user(session, "disabled", grants={DYGN: "full"}, enabled=False)
        await session.commit()
    return engine


async def test_scenario_table_only_permitted_subscribers_get_a_row(
    people: AsyncEngine, record: Record
) -> None:
    body = event_body("payment.disbursed")
    recorded = await record(people, body)
    assert recorded == Recorded(events=1, duplicates=0, messages=2)
    assert await recipients(people) == {"full": "full", "summary": "summary"}
    rows = await outbox(people)
    assert {r.recipient for r in rows} == {"full@kommun.example.se", "summary@kommun.example.se"}
    assert all(r.status == "pending" and r.channel == "email" for r in rows)
    assert all(r.kind == "notification" and r.event_id == body["event_id"] for r in rows)


async def test_the_same_event_twice_gives_one_row_per_recipient(
    people: AsyncEngine, record: Record
) -> None:
    body = event_body("payment.disbursed")
    first = await record(people, body, body)  # twice in one batch
    again = await record(people, body)  # and redelivered later
    assert (first.events, first.duplicates, again.events, again.duplicates) == (1, 1, 0, 1)
    assert len(await outbox(people)) == 2
    async with db.sessionmaker(people)() as session:
        stored = await session.get(ProcessedEvent, body["event_id"])
    assert stored is not None and stored.recipients == 2


async def test_a_revoked_permission_stops_the_next_event(
    people: AsyncEngine, record: Record
) -> None:
    await record(people, event_body("payment.disbursed"))
    async with db.sessionmaker(people)() as session:
        await store.put_permissions(
            session=session, user_id="full", permissions=PermissionsIn(grants={})
        )
        await session.commit()
    second = event_body("payment.disbursed")
    await record(people, second)
    rows = [r for r in await outbox(people) if r.event_id == second["event_id"]]
    assert [r.user_id for r in rows] == ["summary"]


async def test_an_announcement_limited_to_some_compensation_types(
    engine: AsyncEngine, record: Record
) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(
            session, "massflykt", grants={MASSFLYKT: "summary"}, subscribed=(ANNOUNCEMENT,)
        )
        await add_user(session, "dygn", grants={DYGN: "full"}, subscribed=(ANNOUNCEMENT,))
        await add_user(
            session, "both", grants={DYGN: "full", MASSFLYKT: "full"}, subscribed=(ANNOUNCEMENT,)
        )
        await session.commit()
    limited = {"title": "Försenade schabloner", "body": "…", "compensation_types": [MASSFLYKT]}
    await record(engine, event_body(ANNOUNCEMENT, announcement=limited))
    assert await recipients(engine) == {"massflykt": "summary", "both": "full"}


async def test_an_announcement_without_organisation_reaches_every_organisation(
    engine: AsyncEngine, record: Record
) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "sthlm", grants={}, subscribed=(ANNOUNCEMENT,))
        await add_user(session, "gbg", org=GOTEBORG, grants={}, subscribed=(ANNOUNCEMENT,))
        await add_user(session, "payments-only", grants={DYGN: "full"})
        await session.commit()
    everyone = event_body(ANNOUNCEMENT)
    del everyone["organisation"]
    to_gbg = event_body(ANNOUNCEMENT, organisation=GOTEBORG)
    await record(engine, everyone, to_gbg, event_body("payment.disbursed"))
    rows = await outbox(engine)
    assert sorted((r.event_id == everyone["event_id"], r.user_id) for r in rows) == [
        (False, "gbg"),
        (False, "payments-only"),
        (True, "gbg"),
        (True, "sthlm"),
    ]


async def test_one_batch_of_many_events_matches_each_on_its_own(
    people: AsyncEngine, record: Record
) -> None:
    bodies = [event_body("payment.disbursed") for _ in range(50)]
    bodies += [event_body("payment.disbursed", organisation=GOTEBORG) for _ in range(50)]
    recorded = await record(people, *bodies)
    assert recorded == Recorded(events=100, duplicates=0, messages=150)


def test_message_ids_are_deterministic_and_name_no_user() -> None:
    first = message_id("6f1c1e9e-0b7a-4a53-9a43-1f0f6a1d2b11", "anna.berg@stockholm.se")
    assert first == message_id("6f1c1e9e-0b7a-4a53-9a43-1f0f6a1d2b11", "anna.berg@stockholm.se")
    assert first != message_id("6f1c1e9e-0b7a-4a53-9a43-1f0f6a1d2b11", "other")
    assert first.startswith("<6f1c1e9e-0b7a-4a53-9a43-1f0f6a1d2b11.")
    assert first.endswith("@statlig-ersattning.invalid>")
    assert "anna" not in first


async def test_rows_are_stored_as_sqlalchemy_would_store_them(people: AsyncEngine) -> None:
    """The driver-level insert gives every column, timestamps and JSON as the models
    read them back."""
    now = utcnow()
    body = event_body("payment.disbursed")
    await record(people, body, now=now)
    rows = await outbox(people)
    assert {row.user_id for row in rows} == {"full", "summary"}
    for row in rows:
        assert (row.channel, row.kind, row.status, row.attempts) == (
            "email",
            "notification",
            "pending",
            0,
        )
        assert row.headers == {} and row.sent_at is None and row.last_error is None
        assert row.next_attempt_at == row.created_at == now
    async with db.sessionmaker(people)() as session:
        stored = await session.get(ProcessedEvent, body["event_id"])
    assert stored is not None and stored.processed_at == now and stored.recipients == 2
    assert stored.payload == Event.model_validate(body).model_dump(mode="json", exclude_none=True)


async def test_the_consumers_rows_roll_back_with_the_transaction(people: AsyncEngine) -> None:
    async with db.sessionmaker(people)() as session:
        events = [Event.model_validate(event_body("payment.disbursed"))]
        recorded = await record_events(session=session, events=events, now=utcnow())
        await session.rollback()
    assert recorded.messages == 2
    assert await outbox(people) == []
    async with db.sessionmaker(people)() as session:
        assert await session.get(ProcessedEvent, str(events[0].event_id)) is None


def test_the_consumer_gives_every_outbox_column() -> None:
    assert len(set(OUTBOX_COLUMNS)) == len(OUTBOX_COLUMNS)
    assert set(OUTBOX_COLUMNS) | set(OUTBOX_NULL) == {c.name for c in OUTBOX_TABLE.columns} - {"id"}
    for name in OUTBOX_NULL:  # left out of the insert, so NULL by the table itself
        column = OUTBOX_TABLE.c[name]
        assert column.nullable and column.server_default is None, name


@pytest.mark.parametrize("user_id", ["back\\slash", "tab\there", "new\nline", "\\N", "cr\rhere"])
async def test_any_user_id_and_address_are_stored_exactly(
    engine: AsyncEngine, user_id: str
) -> None:
    """COPY writes a row's own values unescaped only when nothing in the batch needs it."""
    async with db.sessionmaker(engine)() as session:
        await add_user(session, user_id, grants={DYGN: "full"})
        await add_user(session, "plain", grants={DYGN: "summary"}, subscribed=(ANNOUNCEMENT,))
        await session.commit()
    await record(engine, event_body("payment.disbursed"), event_body(ANNOUNCEMENT))
    rows = {row.user_id: row for row in await outbox(engine)}
    assert rows.keys() == {user_id, "plain"}
    assert rows[user_id].recipient == f"{user_id}@kommun.example.se"
    assert (rows[user_id].level, rows["plain"].level) == ("full", None)
