"""Tickets and their audit trail: the data functions the API, the web form and the triage
desk share.

Every change appends a TicketEvent naming who, what and why. The functions add to the
session and flush, never commit: the request (or batch) that calls them commits once.
"""

import re
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from domain.text import text_error
from routing.decision.schemas import Decision, Destination, Inquiry
from routing.ticketing import search
from routing.ticketing.models import Ticket, TicketEvent, TicketStatus

SYSTEM = "system"  # the actor for what the service does by itself

# new → in_progress → forwarded / answered → closed. A new ticket may also be forwarded
# before anyone claims it (forwarding is automatic), and one may close a ticket that
# needs no work; answered is final apart from closing.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.FORWARDED, TicketStatus.CLOSED}
    ),
    TicketStatus.IN_PROGRESS: frozenset(
        {TicketStatus.FORWARDED, TicketStatus.ANSWERED, TicketStatus.CLOSED}
    ),
    TicketStatus.FORWARDED: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.ANSWERED, TicketStatus.CLOSED}
    ),
    TicketStatus.ANSWERED: frozenset({TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
    # Staff reopen a wrong deflection by taking it (or by a re-route to a queue).
    TicketStatus.DEFLECTED: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.CLOSED}),
}

# Crockford-like: no 0/O, 1/I/L, so a reference read over the phone survives.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# A reference as people quote it (in a subject, say).
REFERENCE = re.compile(f"SUP-[{_REFERENCE_ALPHABET}]{{8}}")

# Called in the creating transaction, e.g. to put the forward into the outbox.
TicketCreatedHook = Callable[[AsyncSession, Ticket, Decision], Awaitable[None]]
# Called in the transaction that records a staff answer, with the answer's text.
TicketAnsweredHook = Callable[[AsyncSession, Ticket, str], Awaitable[None]]


class TicketError(ValueError):
    """A change the ticket cannot take; the message says why, in Swedish."""


def new_reference() -> str:
    """What the person is shown and quotes back, e.g. `SUP-7K3M9QX2`."""
    return "SUP-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


async def create_ticket(
    *,
    session: AsyncSession,
    inquiry: Inquiry,
    decision: Decision,
    actor: str = SYSTEM,
    idempotency_key: str | None = None,
) -> Ticket:
    ticket = Ticket(
        idempotency_key=idempotency_key,
        id=str(uuid.uuid4()),
        reference=new_reference(),
        status=TicketStatus.NEW,
        destination=decision.primary.destination,
        inquiry=stored_inquiry(inquiry),
        decision=decision.model_dump(mode="json"),
        rule_id=decision.rule.id,
        rule_version=decision.rule.version,
    )
    session.add(ticket)
    await session.flush()  # the event's foreign key needs the ticket row first
    detail = {"rule_id": ticket.rule_id, "rule_version": ticket.rule_version}
    await record(
        session, ticket, actor, "created", detail=detail | {"destination": ticket.destination}
    )
    return ticket


async def get_ticket(*, session: AsyncSession, ticket_id: str) -> Ticket | None:
    return await session.get(Ticket, ticket_id)


def stored_inquiry(inquiry: Inquiry) -> dict[str, Any]:
    """The inquiry as a ticket keeps it."""
    return inquiry.model_dump(mode="json", exclude_none=True)


async def get_ticket_by_reference(*, session: AsyncSession, reference: str) -> Ticket | None:
    result = await session.exec(select(Ticket).where(Ticket.reference == reference))
    return result.first()


async def list_tickets(
    *,
    session: AsyncSession,
    destination: Destination | str | None = None,
    status: TicketStatus | str | None = None,
    older_than: timedelta | None = None,
    now: datetime | None = None,
    q: str | None = None,
    limit: int = 100,
) -> list[Ticket]:
    """The queue, oldest first: what has waited longest is seen first."""
    query = select(Ticket)
    if q and (found := search.matches(q)) is not None:
        query = query.where(found)
    if destination is not None:
        query = query.where(Ticket.destination == destination)
    if status is not None:
        query = query.where(Ticket.status == status)
    if older_than is not None:
        query = query.where(col(Ticket.created_at) < (now or utcnow()) - older_than)
    result = await session.exec(query.order_by(col(Ticket.created_at), col(Ticket.id)).limit(limit))
    return list(result.all())


async def events(*, session: AsyncSession, ticket_id: str) -> list[TicketEvent]:
    """The audit trail, in order."""
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    result = await session.exec(query.order_by(col(TicketEvent.at), col(TicketEvent.id)))
    return list(result.all())


async def set_status(
    *,
    session: AsyncSession,
    ticket: Ticket,
    actor: str,
    status: TicketStatus,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Ticket:
    current = TicketStatus(ticket.status)
    if status not in TRANSITIONS[current]:
        raise TicketError(f"Ett ärende med status {current} kan inte få status {status}.")
    ticket.status = status
    await record(
        session, ticket, actor, "status", reason, (detail or {}) | {"from": current, "to": status}
    )
    return ticket


async def claim(*, session: AsyncSession, ticket: Ticket, actor: str) -> Ticket:
    """`actor` takes the ticket: it is theirs and in progress."""
    return await assign(session=session, ticket=ticket, actor=actor, assignee=actor)


async def assign(
    *,
    session: AsyncSession,
    ticket: Ticket,
    actor: str,
    assignee: str | None,
    reason: str | None = None,
) -> Ticket:
    """Give the ticket to `assignee` (None: back to the queue); a new one becomes in progress."""
    previous, ticket.assignee = ticket.assignee, assignee
    await record(session, ticket, actor, "assigned", reason, {"from": previous, "to": assignee})
    if assignee is not None and ticket.status in {
        TicketStatus.NEW,
        TicketStatus.FORWARDED,
        TicketStatus.DEFLECTED,
    }:
        await set_status(
            session=session, ticket=ticket, actor=actor, status=TicketStatus.IN_PROGRESS
        )
    return ticket


async def reroute(
    *,
    session: AsyncSession,
    ticket: Ticket,
    actor: str,
    destination: Destination,
    reason: str,
    decision: Decision | None = None,
) -> Ticket:
    """Send the ticket to another destination's queue. Why is required: the person was
    told another route, and the audit trail must say why it changed. The new `decision`,
    if given, is kept in the trail beside the ticket's original one."""
    if not reason or not reason.strip():
        raise TicketError("Ange varför ärendet skickas vidare till en annan mottagare.")
    if ticket.status == TicketStatus.CLOSED:
        raise TicketError("Ett stängt ärende kan inte skickas vidare.")
    previous = ticket.destination
    ticket.destination, ticket.assignee, ticket.status = destination, None, TicketStatus.NEW
    detail: dict[str, Any] = {"from": previous, "to": destination}
    if decision is not None:
        detail["decision"] = decision.model_dump(mode="json")
    await record(session, ticket, actor, "rerouted", reason, detail)
    return ticket


async def add_note(*, session: AsyncSession, ticket: Ticket, actor: str, text: str) -> TicketEvent:
    if not text or not text.strip():
        raise TicketError("En anteckning kan inte vara tom.")
    return await record(session, ticket, actor, "note", text.strip())


async def mark_forwarded(
    *, session: AsyncSession, ticket: Ticket, channel: str, recipient: str
) -> Ticket:
    """The forward reached the destination's mailbox or endpoint. Status moves only where
    the state machine allows (staff may have answered meanwhile); the event is kept always."""
    detail = {"channel": channel, "recipient": recipient}
    if TicketStatus.FORWARDED in TRANSITIONS[TicketStatus(ticket.status)]:
        return await set_status(
            session=session,
            ticket=ticket,
            actor=SYSTEM,
            status=TicketStatus.FORWARDED,
            detail=detail,
        )
    await record(session, ticket, SYSTEM, "forwarded", detail=detail)
    return ticket


async def record(
    session: AsyncSession,
    ticket: Ticket,
    actor: str,
    action: str,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> TicketEvent:
    if reason and (bad := text_error(reason, multiline=True)):
        raise TicketError(bad)  # the desk's pages pass form text straight through
    now = utcnow()
    ticket.updated_at = now
    event = TicketEvent(
        ticket_id=ticket.id, at=now, actor=actor, action=action, reason=reason, detail=detail or {}
    )
    session.add_all([ticket, event])
    await session.flush()
    return event
