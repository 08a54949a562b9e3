"""Retention: personal data past the period is purged, counts and the audit trail stay
(on SQLite and PostgreSQL)."""

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier import db
from notifier.compose import Role, build_services
from notifier.outbox.models import OutboxMessage, OutboxStatus, ProcessedEvent
from notifier.settings import Settings
from notifier.workers import retention
from notifier.workers.retention import purge
from routing.ticketing import replies, tickets
from routing.ticketing.models import Attachment, Ticket, TicketStatus
from tests.pipeline_helpers import event_body, eventually
from tests.test_tickets import new_ticket

NOW = utcnow()
OLD = NOW - timedelta(days=91)
RECENT = NOW - timedelta(days=89)
PERIOD = timedelta(days=90)


def processed(when: Any, **overrides: Any) -> ProcessedEvent:
    body = event_body(**overrides)
    return ProcessedEvent(
        event_id=body["event_id"], event_type=body["event_type"], payload=body,
        recipients=1, processed_at=when,
    )  # fmt: skip


def email(event: ProcessedEvent, status: str, when: Any, **overrides: Any) -> OutboxMessage:
    values: dict[str, Any] = {
        "message_id": f"<{uuid.uuid4()}@test>", "kind": "notification",
        "event_id": event.event_id, "user_id": "u1", "recipient": "anna@kommun.se",
        "subject": "Utbetalning", "body_text": "Ali Hassan", "headers": {"X-A": "b"},
        "status": status, "attempts": 1, "created_at": when,
        "last_error": "recipient refused: 550 <anna@kommun.se> unknown",
    }  # fmt: skip
    return OutboxMessage(**values | overrides)


async def store(engine: AsyncEngine, *rows: Any) -> None:
    async with db.sessionmaker(engine)() as session:
        session.add_all(rows)
        await session.commit()


async def test_final_emails_past_the_period_lose_address_and_text_keep_status(
    engine: AsyncEngine,
) -> None:
    event = processed(OLD)
    old_sent = email(event, OutboxStatus.SENT, OLD)
    old_failed = email(event, OutboxStatus.FAILED, OLD)
    old_pending = email(event, OutboxStatus.PENDING, OLD)
    recent_sent = email(event, OutboxStatus.SENT, RECENT)
    await store(engine, event, old_sent, old_failed, old_pending, recent_sent)

    done = await purge(db.sessionmaker(engine), older_than=PERIOD, now=NOW)

    assert done.outbox == 2
    rows = {row.message_id: row for row in await _all(engine, OutboxMessage)}
    for purged in (old_sent, old_failed):
        row = rows[purged.message_id]
        assert (row.recipient, row.user_id, row.subject, row.body_text, row.headers) == (
            "", None, None, None, {},
        )  # fmt: skip
        assert (row.status, row.attempts) == (purged.status, 1)
        assert row.last_error == "recipient refused: 550 <[borttagen]> unknown"
    for kept in (old_pending, recent_sent):
        assert rows[kept.message_id].recipient == "anna@kommun.se"


async def test_old_events_keep_their_id_and_what_happened_but_not_the_person(
    engine: AsyncEngine,
) -> None:
    done_event, waiting_event, recent_event = processed(OLD), processed(OLD), processed(RECENT)
    waiting = email(waiting_event, OutboxStatus.PENDING, OLD)
    await store(engine, done_event, waiting_event, recent_event, waiting)

    done = await purge(db.sessionmaker(engine), older_than=PERIOD, now=NOW)

    assert done.events == 1
    events = {e.event_id: e for e in await _all(engine, ProcessedEvent)}
    assert events[done_event.event_id].payload == {
        "schema_version": 1, "event_id": done_event.event_id, "event_type": "payment.disbursed",
        "occurred_at": "2026-11-26T10:15:00+01:00", "compensation_type": done_event.payload[
            "compensation_type"], "organisation": {"kind": "kommun", "code": "0180"},
        "purged": True,
    }  # fmt: skip
    # An email still to send needs its event to be rendered from.
    assert events[waiting_event.event_id].payload["person"] == {"name": "Ali Hassan"}
    assert "person" in events[recent_event.event_id].payload


async def test_closed_ticket_loses_person_texts_and_screenshots_keeps_its_trail(
    engine: AsyncEngine,
) -> None:
    async with db.sessionmaker(engine)() as session:
        closed = await _closed_ticket(session, screenshot=True)
        still_open = await new_ticket(session)
        await session.commit()
    await _age(engine, closed.id, still_open.id)

    done = await purge(db.sessionmaker(engine), older_than=PERIOD, now=utcnow())

    assert (done.tickets, done.attachments) == (1, 1)
    async with db.sessionmaker(engine)() as session:
        ticket = await session.get(Ticket, closed.id)
        assert ticket is not None and ticket.status == TicketStatus.CLOSED
        assert ticket.inquiry == {
            "issue_type": "compensation", "target_group": "asylsokande",
            "organisation": {"kind": "kommun", "code": "0180"}, "purged": True,
        }  # fmt: skip
        assert ticket.reference.startswith("SUP-") and ticket.rule_id == "compensation-sea"
        trail = await tickets.events(session=session, ticket_id=closed.id)
        assert [e.action for e in trail] == ["created", "note", "status", "purged"]
        assert all(e.reason is None for e in trail)
        assert trail[2].detail == {"from": "new", "to": "closed"}
        assert trail[3].detail == {
            "inquiry_fields": ["diarienummer", "email", "message", "name"], "attachments": 1,
        }  # fmt: skip
        assert (await session.exec(select(Attachment))).all() == []
        untouched = await session.get(Ticket, still_open.id)
        assert untouched is not None and untouched.inquiry["name"] == "Anna Berg"


async def test_purging_twice_finds_nothing_the_second_time(engine: AsyncEngine) -> None:
    event = processed(OLD)
    await store(engine, event, email(event, OutboxStatus.CANCELLED, OLD))
    async with db.sessionmaker(engine)() as session:
        closed = await _closed_ticket(session)
        await session.commit()
    await _age(engine, closed.id)
    sessions = db.sessionmaker(engine)

    first = await purge(sessions, older_than=PERIOD, now=NOW)
    second = await purge(sessions, older_than=PERIOD, now=NOW + timedelta(days=1))

    assert (first.outbox, first.events, first.tickets) == (1, 1, 1)
    assert (second.outbox, second.events, second.tickets) == (0, 0, 0)


async def test_the_purge_command_counts_what_it_removed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/purge.db"
    other = db.create_engine(url)
    await db.migrate(other)
    event = processed(OLD)
    await store(other, event, email(event, OutboxStatus.SENT, OLD))
    await other.dispose()
    env = os.environ | {
        "NOTIFIER_DATABASE_URL": url,
        "NOTIFIER_RETENTION_DAYS": "30",
        "PYTHONPATH": str(Path(__file__).parents[1]),
    }

    # A process of its own: the command configures logging and runs its own event loop.
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "notifier", "purge"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert "äldre än 30 dagar" in done.stdout
    assert "1 mejl, 1 händelser, 0 stängda ärenden" in done.stdout


async def _closed_ticket(session: AsyncSession, *, screenshot: bool = False) -> Ticket:
    ticket = await new_ticket(session)
    await tickets.add_note(session=session, ticket=ticket, actor="staff:eva", text="Ali ringde")
    await tickets.set_status(
        session=session, ticket=ticket, actor="staff:eva", status=TicketStatus.CLOSED,
        reason="Besvarat per telefon till Anna",
    )  # fmt: skip
    if screenshot:
        session.add(Attachment(id=str(uuid.uuid4()), ticket_id=ticket.id, filename="fel.png",
                               content_type="image/png", size=3, data=b"png"))  # fmt: skip
    return ticket


async def _age(engine: AsyncEngine, *ticket_ids: str) -> None:
    async with db.sessionmaker(engine)() as session:
        for ticket_id in ticket_ids:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            ticket.updated_at = OLD
            session.add(ticket)
        await session.commit()


async def _all(engine: AsyncEngine, model: Any) -> list[Any]:
    async with db.sessionmaker(engine)() as session:
        return list((await session.exec(select(model))).all())


async def test_every_sender_purges_at_start_and_then_daily(
    engine: AsyncEngine, settings: Settings
) -> None:
    event = processed(OLD)
    old_sent = email(event, OutboxStatus.SENT, OLD)
    await store(engine, event, old_sent)
    services = build_services(settings, engine, roles=(Role.SEND,))
    [daily] = [w for w in services.workers if getattr(w, "func", None) is retention.run_daily]
    task = asyncio.create_task(daily())
    try:

        async def purged() -> bool:
            [row] = await _all(engine, OutboxMessage)
            return row.recipient == ""

        await eventually(purged, what="the old email purged by the daily loop")
    finally:
        task.cancel()


async def test_a_purged_reply_keeps_no_sender_subject_or_other_detail(
    engine: AsyncEngine,
) -> None:
    async with db.sessionmaker(engine)() as session:
        ticket = await new_ticket(session)
        email = ticket.inquiry["email"]
        for sender, held in ((email, None), ("erik@example.se", "En annan adress.")):
            await replies.add_reply(
                session=session, ticket=ticket, sender=sender, text="Det gäller Ali Hassan",
                detail={"subject": "Re: Ali Hassan, 19900101-1234", "attachments": [],
                        "from_name": "Anna Berg"}, held=held,
            )  # fmt: skip
        await tickets.set_status(
            session=session, ticket=ticket, actor="staff:eva", status=TicketStatus.CLOSED
        )
        await session.commit()
    await _age(engine, ticket.id)

    await purge(db.sessionmaker(engine), older_than=PERIOD, now=utcnow())

    async with db.sessionmaker(engine)() as session:
        trail = await tickets.events(session=session, ticket_id=ticket.id)
    stored = repr([(e.actor, e.reason, e.detail) for e in trail])
    for personal in (email, "erik@example.se", "Ali", "19900101", "Anna Berg"):
        assert personal not in stored
    sent = [(e.actor, e.detail) for e in trail if e.action == "reply"]
    assert sent == [
        ("avsändare (gallrad)", {"attachments": []}),
        ("avsändare (gallrad)", {"attachments": [], "held": "En annan adress."}),
    ]
    assert trail[-2].actor == "staff:eva"  # staff stay named: the audit trail
