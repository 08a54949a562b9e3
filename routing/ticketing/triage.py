"""The triage desk's work on a ticket, shared by its JSON API and its HTML pages: the
queue a person sees, and each action with the Swedish message of what went wrong."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.decision import engine
from routing.decision.rules import RuleSet
from routing.decision.schemas import Decision, Destination, RuleRef
from routing.ticketing import replies, tickets
from routing.ticketing.models import Attachment, Ticket, TicketStatus
from routing.ticketing.staff import StaffAccount
from routing.ticketing.stats import Clock
from routing.ticketing.tickets import TicketAnsweredHook, TicketCreatedHook, TicketError

ALL = "alla"  # the destination filter for every queue
REROUTE_RULE = "staff-reroute"  # the rule id of a decision made by a person
MAX_TEXT = 5000


class DeskAction(StrEnum):
    """What a person at the desk can do to a ticket (the trail's entries are others)."""

    CLAIM = "claim"
    NOTE = "note"
    REROUTE = "reroute"
    ANSWER = "answer"
    CLOSE = "close"
    ACCEPT = "accept"  # a held reply by email, taken in as the person's


@dataclass(frozen=True)
class Desk:
    rules: RuleSet
    now: Callable[[], datetime]
    on_ticket_created: TicketCreatedHook | None = None
    # Sends the answer to the person who asked (the composition root's outbox).
    on_ticket_answered: TicketAnsweredHook | None = None
    stale_after_days: int = 2  # working days; an older open ticket is marked on the queue

    @cached_property
    def clock(self) -> Clock:
        return Clock(self.rules, self.stale_after_days)

    async def queue(
        self,
        *,
        session: AsyncSession,
        staff: StaffAccount,
        destination: str | None,
        status: str | None,
        older_than_hours: int | None,
        q: str | None = None,
    ) -> list[Ticket]:
        """Oldest first, of the queues the person may see only: no destination asked for
        is their own queues, `alla` every queue they may see; another's name finds nothing."""
        visible = staff.visible
        wanted: list[str | None] = [None] if visible is None else [*sorted(visible)]
        if destination is None and staff.destinations:
            wanted = [*sorted(staff.destinations)]
        elif destination is not None and destination != ALL:
            wanted = [destination] if staff.may_see(destination) else []
        older = timedelta(hours=older_than_hours) if older_than_hours else None
        found: list[Ticket] = []
        for one in wanted:
            found += await tickets.list_tickets(
                session=session,
                destination=one,
                status=status or None,
                older_than=older,
                now=self.now(),
                q=q,
                limit=500,
            )
        return sorted(found, key=lambda ticket: (ticket.created_at, ticket.id))

    async def act(
        self,
        *,
        session: AsyncSession,
        ticket: Ticket,
        staff: StaffAccount,
        action: str,
        text: str = "",
        destination: str = "",
        reply: str = "",
    ) -> None:
        """Do `action`; raise TicketError with a Swedish message when it cannot be done.
        `reply` is the trail id of the held reply ACCEPT takes in."""
        text = text.strip()
        if len(text) > MAX_TEXT:
            raise TicketError(f"Texten får vara högst {MAX_TEXT} tecken.")
        actor = staff.actor
        if action == DeskAction.CLAIM:
            if ticket.status == TicketStatus.CLOSED:
                raise TicketError("Ett stängt ärende kan inte tas.")
            await tickets.claim(session=session, ticket=ticket, actor=actor)
        elif action == DeskAction.NOTE:
            await tickets.add_note(session=session, ticket=ticket, actor=actor, text=text)
        elif action == DeskAction.REROUTE:
            await self._reroute(session, ticket, actor, destination, text)
        elif action == DeskAction.ANSWER:
            await self._answer(session, ticket, actor, text)
        elif action == DeskAction.CLOSE:
            await tickets.set_status(
                session=session,
                ticket=ticket,
                actor=actor,
                status=TicketStatus.CLOSED,
                reason=text or None,
            )
        elif action == DeskAction.ACCEPT:
            reply_id = int(reply) if reply.isdigit() else 0
            await replies.accept_reply(
                session=session, ticket=ticket, reply_id=reply_id, actor=actor
            )
        else:
            raise TicketError("Okänd åtgärd.")

    async def _answer(self, session: AsyncSession, ticket: Ticket, actor: str, text: str) -> None:
        if not text:
            raise TicketError("Skriv svaret till den som frågade.")
        await tickets.set_status(
            session=session,
            ticket=ticket,
            actor=actor,
            status=TicketStatus.ANSWERED,
            reason=text,
            detail={"answer": True},
        )
        if self.on_ticket_answered:
            await self.on_ticket_answered(session, ticket, text)

    async def _reroute(
        self, session: AsyncSession, ticket: Ticket, actor: str, destination: str, reason: str
    ) -> None:
        try:
            target = Destination(destination)
        except ValueError:
            raise TicketError("Välj vart ärendet ska skickas.") from None
        if target == ticket.destination:
            raise TicketError("Ärendet ligger redan hos den mottagaren.")
        decision = self.decision_for(target)
        await tickets.reroute(
            session=session,
            ticket=ticket,
            actor=actor,
            destination=target,
            reason=reason,
            decision=decision,
        )
        # A Migrationsverket queue gets the ticket forwarded, as a new one would be.
        if self.on_ticket_created and engine.needs_ticket(decision):
            await self.on_ticket_created(session, ticket, decision)

    def decision_for(self, destination: Destination) -> Decision:
        """The decision a person made: the destination's contact, named as theirs."""
        contact = engine.contact(self.rules, self.rules.contacts[destination], self.now())
        return Decision(primary=contact, rule=RuleRef(id=REROUTE_RULE, version=self.rules.version))


async def attachments(*, session: AsyncSession, ticket_id: str) -> list[Attachment]:
    return (await attachments_by_ticket(session, {ticket_id})).get(ticket_id, [])


async def attachments_by_ticket(
    session: AsyncSession, ticket_ids: set[str]
) -> dict[str, list[Attachment]]:
    """Each ticket's attachments, oldest first."""
    query = (
        select(Attachment)
        .where(col(Attachment.ticket_id).in_(ticket_ids))
        .order_by(col(Attachment.created_at), col(Attachment.id))
    )
    by_ticket: dict[str, list[Attachment]] = defaultdict(list)
    for attachment in (await session.exec(query)).all():
        by_ticket[attachment.ticket_id].append(attachment)
    return by_ticket


def ticket_out(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "reference": ticket.reference,
        "status": ticket.status,
        "destination": ticket.destination,
        "assignee": ticket.assignee,
        "inquiry": ticket.inquiry,
        "decision": ticket.decision,
        "rule": {"id": ticket.rule_id, "version": ticket.rule_version},
        "channel": ticket.channel,
        "subject": ticket.subject,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }
