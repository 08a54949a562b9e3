"""Daily digests: held instead of sent, one per user and day whatever runs twice or
restarts, rendered at the grants in force when sent, nothing when nothing is left."""

import asyncio
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from domain.sqltypes import utcnow
from notifier import db
from notifier.channels.base import Files, Results
from notifier.commands import send_digests
from notifier.compose import Services, kinds
from notifier.outbox.digest_rows import create_digests, due, next_run, run_daily
from notifier.outbox.events import Event
from notifier.outbox.models import Claimed, OutboxKind, OutboxMessage, OutboxStatus
from notifier.outbox.record import record_events
from notifier.workers.sender import Sender
from subscriptions import lookup, store
from subscriptions.models import User
from subscriptions.schemas import PermissionsIn
from tests.pipeline_helpers import DYGN, FAST, add_user, event_body, outbox

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SEVEN = time(7, 0)
PERSON = "Ali Hassan"
# 2026-11-27 07:30 in Stockholm (UTC+1): the day's digests are due.
MORNING = datetime(2026, 11, 27, 6, 30, tzinfo=UTC)
DAY = MORNING.date()


class Capture:
    """The email channel, keeping what it was given."""

    def __init__(self) -> None:
        self.sent: list[OutboxMessage] = []

    async def deliver(self, messages: list[Claimed], files: Files | None = None) -> Results:
        self.sent += messages
        return {m.id: None for m in messages if m.id is not None}


def sender(services: Services, channel: Capture) -> Sender:
    return Sender(sessions=services.sessions, channels={"email": channel}, kinds=kinds(services))


async def daily_user(engine: AsyncEngine, user_id: str, **grants: str) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(
            session,
            user_id,
            grants=grants or {DYGN: "full"},
            subscribed=("payment.disbursed", "application.submitted", "service.announcement"),
        )
        user = await session.get(User, user_id)
        assert user is not None
        user.delivery = "daily"
        await session.flush()
        # As every write of a user does (subscriptions.store): the lookup copies delivery.
        await lookup.refresh(session=session, user_ids=[user_id])
        await session.commit()


async def events(engine: AsyncEngine, *bodies: dict[str, Any]) -> None:
    async with db.sessionmaker(engine)() as session:
        parsed = [Event.model_validate(body) for body in bodies]
        await record_events(session=session, events=parsed, now=utcnow())
        await session.commit()


async def make(services: Services, *, now: datetime | None = None) -> int:
    moment = now or utcnow()
    return await create_digests(services.sessions, now=moment, day=DAY, cutoff=moment)


async def drain(services: Services) -> list[OutboxMessage]:
    channel = Capture()
    run = sender(services, channel)
    while await run.send_batch():
        pass
    return channel.sent


async def test_a_daily_user_gets_no_immediate_email_but_one_digest(
    services: Services, engine: AsyncEngine
) -> None:
    await daily_user(engine, "anna")
    await events(engine, event_body(), event_body("application.submitted"))
    assert {row.status for row in await outbox(engine)} == {OutboxStatus.HELD}
    assert await drain(services) == []  # held items are never claimed

    assert await make(services) == 1
    sent = await drain(services)
    assert [row.kind for row in sent] == [OutboxKind.DIGEST]
    digest = sent[0]
    assert digest.recipient == "anna@kommun.example.se"
    assert digest.subject is not None and "två händelser" in digest.subject
    assert "Utbetalning gjord – Dygnsschablon" in (digest.body_text or "")
    assert "Ansökan har kommit in – Dygnsschablon" in (digest.body_text or "")
    assert "345,50" in (digest.body_text or "") and PERSON in (digest.body_html or "")
    assert digest.headers["List-Unsubscribe"].startswith("<http://localhost:8000/mina-notif")
    assert digest.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {row.status for row in await outbox(engine)} == {OutboxStatus.SENT}


async def test_two_runs_the_same_day_make_one_email(
    services: Services, engine: AsyncEngine
) -> None:
    await daily_user(engine, "anna")
    await events(engine, event_body())
    assert await make(services) == 1
    assert await make(services) == 0
    assert len(await drain(services)) == 1
    await events(engine, event_body())  # later that day: waits for tomorrow
    assert await make(services) == 0
    assert await drain(services) == []


async def test_concurrent_runs_and_senders_make_and_send_one_digest(
    services: Services, engine: AsyncEngine
) -> None:
    await daily_user(engine, "anna")
    await events(engine, event_body())
    now = utcnow()
    made = await asyncio.gather(*(make(services, now=now) for _ in range(3)))
    assert sorted(made) == [0, 0, 1]
    if engine.dialect.name == "sqlite":
        return  # one sender per SQLite file (no SKIP LOCKED): see notifier.workers.sender
    first, second = Capture(), Capture()
    await asyncio.gather(
        sender(services, first).send_batch(), sender(services, second).send_batch()
    )
    assert len(first.sent) + len(second.sent) == 1


async def test_a_grant_revoked_before_the_digest_removes_its_item(
    services: Services, engine: AsyncEngine
) -> None:
    await daily_user(engine, "anna", **{DYGN: "full", FAST: "full"})
    await events(engine, event_body(), event_body(compensation_type=FAST))
    async with services.sessions() as session:
        await store.put_permissions(
            session=session, user_id="anna", permissions=PermissionsIn(grants={FAST: "full"})
        )
        await session.commit()
    await make(services)
    [digest] = await drain(services)
    text = digest.body_text or ""
    assert "Fast årlig ersättning" in text and "Dygnsschablon" not in text
    assert "en händelse " in (digest.subject or "") + " "
    statuses = sorted(row.status for row in await outbox(engine) if row.kind == "digest_item")
    assert statuses == [OutboxStatus.CANCELLED, OutboxStatus.SENT]


async def test_nothing_is_sent_when_every_item_was_revoked_or_none_held(
    services: Services, engine: AsyncEngine
) -> None:
    await daily_user(engine, "anna")
    assert await make(services) == 0  # nothing held: no digest row at all
    await events(engine, event_body())
    async with services.sessions() as session:
        await store.put_permissions(
            session=session, user_id="anna", permissions=PermissionsIn(grants={})
        )
        await session.commit()
    await make(services)
    assert await drain(services) == []
    digest = next(row for row in await outbox(engine) if row.kind == OutboxKind.DIGEST)
    assert digest.status == OutboxStatus.CANCELLED


async def test_a_summary_user_never_sees_the_person_even_if_full_when_matched(
    services: Services, engine: AsyncEngine
) -> None:
    await daily_user(engine, "anna", **{DYGN: "full"})
    await events(engine, event_body())
    async with services.sessions() as session:
        grants = PermissionsIn(grants={DYGN: "summary"})
        await store.put_permissions(session=session, user_id="anna", permissions=grants)
        await session.commit()
    await make(services)
    [digest] = await drain(services)
    for part in (digest.subject, digest.body_text, digest.body_html, str(digest.headers)):
        assert PERSON not in (part or "")
    assert "1.1.3-2026-123456" in (digest.body_text or "")


async def test_a_restart_after_the_time_catches_up_once_and_sends_no_late_digest(
    services: Services, engine: AsyncEngine
) -> None:
    await daily_user(engine, "anna")
    await daily_user(engine, "bo")
    await events(engine, event_body())
    woke: list[bool] = []

    async def start_at(now: datetime) -> None:
        task = asyncio.create_task(
            run_daily(
                services.sessions,
                at=SEVEN,
                zone=STOCKHOLM,
                on_created=lambda: woke.append(True),
                clock=lambda: now,
            )
        )
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    await held_at(services, datetime(2026, 11, 27, 5, 0, tzinfo=UTC))  # before 07:00
    await start_at(MORNING)
    assert len(await drain(services)) == 2 and woke == [True]
    await daily_user(engine, "cy")  # had nothing before 07:00: no digest today
    await events(engine, event_body())
    await held_at(services, datetime(2026, 11, 27, 8, 0, tzinfo=UTC))  # 09:00, after it
    await start_at(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))  # a restart at 10:00
    assert await drain(services) == [] and woke == [True]
    assert len([row for row in await outbox(engine) if row.status == "held"]) == 3


async def held_at(services: Services, moment: datetime) -> None:
    """Date the held items as if the consumer had stored them at `moment`."""
    async with services.sessions() as session:
        held = await session.exec(select(OutboxMessage).where(OutboxMessage.status == "held"))
        for row in held:
            row.created_at = moment
        await session.commit()


async def test_notifier_digest_now_sends_at_once(services: Services, engine: AsyncEngine) -> None:
    await daily_user(engine, "anna")
    await events(engine, event_body())
    message = await send_digests(services, now=True)
    assert message.startswith("1 nya sammanfattningar")
    assert [row.status for row in await outbox(engine) if row.kind == "digest"] == ["sent"]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 27, 5, 59, tzinfo=UTC), None),  # 06:59 in Stockholm
        (datetime(2026, 11, 27, 6, 0, tzinfo=UTC), datetime(2026, 11, 27, 6, 0, tzinfo=UTC)),
        (datetime(2026, 7, 1, 5, 0, tzinfo=UTC), datetime(2026, 7, 1, 5, 0, tzinfo=UTC)),  # CEST
        (datetime(2026, 7, 1, 4, 59, tzinfo=UTC), None),
    ],
)
def test_digests_are_due_from_seven_swedish_time(now: datetime, expected: datetime | None) -> None:
    found = due(now, SEVEN, STOCKHOLM)
    assert (found[1] if found else None) == expected
    assert due(now, SEVEN, STOCKHOLM, force=True) == (now.astimezone(STOCKHOLM).date(), now)


def test_the_next_run_follows_the_wall_clock_across_summer_time() -> None:
    before_dst = datetime(2026, 3, 28, 7, 0, tzinfo=UTC)  # 08:00 CET, Saturday
    assert next_run(before_dst, SEVEN, STOCKHOLM) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
