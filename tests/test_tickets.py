"""Tickets: created with the rule that routed them, changed only along the state machine,
every change in the audit trail (on SQLite and PostgreSQL)."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier import db
from routing.decision.engine import route
from routing.decision.rules import default_rules
from routing.decision.schemas import Decision, Destination, Inquiry
from routing.ticketing import tickets
from routing.ticketing.models import Ticket, TicketStatus

S = TicketStatus


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with db.sessionmaker(engine)() as session:
        yield session


def sea_inquiry(**overrides: Any) -> Inquiry:
    body = {
        "issue_type": "compensation",
        "target_group": "asylsokande",
        "organisation": {"kind": "kommun", "code": "0180"},
        "name": "Anna Berg",
        "email": "anna.berg@stockholm.se",
        "message": "Utbetalningen för juni saknas.",
        "diarienummer": "1.1.3-2026-123456",
    }
    return Inquiry.model_validate(body | overrides)


def decision_for(inquiry: Inquiry) -> Decision:
    return route(inquiry, default_rules(), utcnow())


async def new_ticket(session: AsyncSession, **overrides: Any) -> Ticket:
    inquiry = sea_inquiry(**overrides)
    return await tickets.create_ticket(
        session=session, inquiry=inquiry, decision=decision_for(inquiry)
    )


async def test_a_ticket_keeps_the_inquiry_and_names_its_rule(session: AsyncSession) -> None:
    ticket = await new_ticket(session)
    await session.commit()

    stored = await tickets.get_ticket(session=session, ticket_id=ticket.id)
    assert stored is not None
    assert (stored.status, stored.destination) == (S.NEW, "sea")
    assert (stored.rule_id, stored.rule_version) == ("compensation-sea", default_rules().version)
    assert stored.inquiry["diarienummer"] == "1.1.3-2026-123456"
    assert stored.decision["primary"]["destination"] == "sea"
    assert stored.reference.startswith("SUP-")
    assert await tickets.get_ticket_by_reference(session=session, reference=stored.reference)
    [created] = await tickets.events(session=session, ticket_id=ticket.id)
    assert (created.actor, created.action) == ("system", "created")
    assert created.detail == {
        "rule_id": "compensation-sea",
        "rule_version": default_rules().version,
        "destination": "sea",
    }


async def test_data_functions_never_commit(session: AsyncSession, engine: AsyncEngine) -> None:
    ticket = await new_ticket(session)
    await session.rollback()
    async with db.sessionmaker(engine)() as other:
        assert await tickets.get_ticket(session=other, ticket_id=ticket.id) is None


async def test_claim_assigns_and_starts_work(session: AsyncSession) -> None:
    ticket = await new_ticket(session)
    await tickets.claim(session=session, ticket=ticket, actor="karin@migrationsverket.se")

    assert (ticket.assignee, ticket.status) == ("karin@migrationsverket.se", S.IN_PROGRESS)
    trail = await tickets.events(session=session, ticket_id=ticket.id)
    assert [(e.action, e.actor) for e in trail] == [
        ("created", "system"),
        ("assigned", "karin@migrationsverket.se"),
        ("status", "karin@migrationsverket.se"),
    ]
    assert trail[-1].detail == {"from": "new", "to": "in_progress"}


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ([S.IN_PROGRESS, S.FORWARDED, S.CLOSED], True),
        ([S.IN_PROGRESS, S.ANSWERED, S.CLOSED], True),
        ([S.FORWARDED, S.ANSWERED, S.CLOSED], True),
        ([S.CLOSED], True),
        ([S.ANSWERED], False),
        ([S.IN_PROGRESS, S.ANSWERED, S.IN_PROGRESS], False),
        ([S.CLOSED, S.IN_PROGRESS], False),
        ([S.NEW], False),
    ],
)
async def test_status_follows_the_state_machine(
    session: AsyncSession, path: list[TicketStatus], allowed: bool
) -> None:
    ticket = await new_ticket(session)

    async def walk() -> None:
        for status in path:
            await tickets.set_status(session=session, ticket=ticket, actor="k", status=status)

    if allowed:
        await walk()
        assert ticket.status == path[-1]
    else:
        with pytest.raises(tickets.TicketError):
            await walk()


async def test_reroute_needs_a_reason_and_returns_the_ticket_to_the_queue(
    session: AsyncSession,
) -> None:
    ticket = await new_ticket(session)
    await tickets.claim(session=session, ticket=ticket, actor="karin")
    with pytest.raises(tickets.TicketError, match="varför"):
        await tickets.reroute(
            session=session, ticket=ticket, actor="karin", destination=Destination.SEN, reason=" "
        )

    await tickets.reroute(
        session=session,
        ticket=ticket,
        actor="karin",
        destination=Destination.SEN,
        reason="Gäller en nyanländ person.",
    )

    assert (ticket.destination, ticket.status, ticket.assignee) == ("sen", S.NEW, None)
    last = (await tickets.events(session=session, ticket_id=ticket.id))[-1]
    assert (last.action, last.reason) == ("rerouted", "Gäller en nyanländ person.")
    assert last.detail == {"from": "sea", "to": "sen"}


async def test_notes_are_kept_in_the_trail(session: AsyncSession) -> None:
    ticket = await new_ticket(session)
    await tickets.add_note(session=session, ticket=ticket, actor="karin", text=" Ringde upp. ")
    with pytest.raises(tickets.TicketError):
        await tickets.add_note(session=session, ticket=ticket, actor="karin", text="")

    last = (await tickets.events(session=session, ticket_id=ticket.id))[-1]
    assert (last.action, last.actor, last.reason) == ("note", "karin", "Ringde upp.")


@pytest.mark.parametrize(
    ("before", "after"),
    [(S.NEW, S.FORWARDED), (S.IN_PROGRESS, S.FORWARDED), (S.ANSWERED, S.ANSWERED)],
)
async def test_a_delivered_forward_is_recorded_without_undoing_work(
    session: AsyncSession, before: TicketStatus, after: TicketStatus
) -> None:
    ticket = await new_ticket(session)
    ticket.status = before
    await tickets.mark_forwarded(
        session=session, ticket=ticket, channel="email", recipient="sea@x.invalid"
    )

    assert ticket.status == after
    last = (await tickets.events(session=session, ticket_id=ticket.id))[-1]
    assert last.actor == "system"
    assert last.detail["recipient"] == "sea@x.invalid"


async def test_the_queue_filters_by_destination_status_and_age(session: AsyncSession) -> None:
    old = await new_ticket(session)
    old.created_at = utcnow() - timedelta(days=3)
    sen = await new_ticket(session, target_group="nyanlanda")
    await tickets.claim(session=session, ticket=sen, actor="karin")
    await session.commit()

    async def ids(**filters: Any) -> list[str]:
        return [t.id for t in await tickets.list_tickets(session=session, **filters)]

    assert await ids() == [old.id, sen.id]
    assert await ids(destination="sen") == [sen.id]
    assert await ids(status=S.NEW) == [old.id]
    assert await ids(older_than=timedelta(days=1)) == [old.id]
    assert await ids(destination="sea", status=S.IN_PROGRESS) == []
