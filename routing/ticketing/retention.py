"""Retention for tickets: a closed ticket's personal data goes after the retention period,
its routing facts and audit trail stay.

Kept: the ticket's reference, status, destination, rule and the inquiry's non-personal
fields (issue type, organisation, login step and method, compensation type, target group,
when asked), the decision, and every trail event's what and when, and who where it was
staff or the service. Removed: the inquiry's name, email, message, diarienummer, case
officer and browser string, the texts of notes, answers, replies and reasons, every trail
detail not known to be a routing fact (a reply's subject, whatever a later feature adds),
the sender of each reply by email, and attachments (screenshots). A trail event "purged"
records what was removed. A purged ticket takes no more replies (`notifier inbound`
refuses them), so nothing personal arrives after its purge. Never commits: the caller's
transaction.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.ticketing.models import Attachment, Ticket, TicketEvent, TicketStatus

# The inquiry fields that say where a question belongs, not who asked it.
KEPT_INQUIRY_FIELDS = frozenset(
    {
        "issue_type",
        "organisation",
        "login_step",
        "login_method",
        "compensation_type",
        "target_group",
        "asked_at",
    }
)
PURGED = "purged"  # the inquiry's marker, and the trail event's action
# Trail details that are routing facts or the service's own words; every other detail
# may carry a person's words or address and goes.
KEPT_DETAIL_KEYS = frozenset(
    {
        "rule_id", "rule_version", "destination", "decision", "from", "to", "reopened",
        "channel", "recipient", "answer", "attachments", "refused", "held", "reply",
        "inquiry_fields",
    }
)  # fmt: skip
# The trail's actor for a person who wrote in, once purged (replies are signed by address).
PURGED_ACTOR = "avsändare (gallrad)"
_WRITTEN_BY_THE_PERSON = frozenset({"reply"})


@dataclass(frozen=True, slots=True)
class PurgedTickets:
    tickets: int
    attachments: int


def strip_inquiry(inquiry: dict[str, Any]) -> dict[str, Any]:
    """The inquiry without the person: only the fields routing used, and the marker."""
    return {k: v for k, v in inquiry.items() if k in KEPT_INQUIRY_FIELDS} | {PURGED: True}


def strip_words(decision: dict[str, Any]) -> dict[str, Any]:
    """A mail's decision keeps which rule set each field, not the person's words."""
    fields = decision.get("rule", {}).get("fields")
    if not fields:
        return decision
    kept = {
        name: {
            k: v for k, v in hit.items() if k == "rule" or (k == "value" and name != "diarienummer")
        }
        for name, hit in fields.items()
    }
    return decision | {"rule": decision["rule"] | {"fields": kept}}


async def purge_closed_tickets(
    *, session: AsyncSession, before: datetime, now: datetime, limit: int = 500
) -> PurgedTickets:
    """Purge up to `limit` tickets closed (last changed) before `before`, not yet purged."""
    query = (
        select(Ticket)
        .where(col(Ticket.status).in_([TicketStatus.CLOSED, TicketStatus.DEFLECTED]))
        .where(col(Ticket.updated_at) < before)
        .where(Ticket.__table__.c.inquiry[PURGED].as_boolean().is_(None))  # type: ignore[attr-defined]
        .order_by(col(Ticket.updated_at))
        .limit(limit)
    )
    found = list((await session.exec(query)).all())
    if not found:
        return PurgedTickets(0, 0)
    ids = [ticket.id for ticket in found]
    attachments = await _attachment_counts(session, ids)
    await session.exec(delete(Attachment).where(col(Attachment.ticket_id).in_(ids)))
    await _strip_trail(session, {t.id: str(t.inquiry.get("email") or "") for t in found})
    for ticket in found:
        removed = sorted(set(ticket.inquiry) - KEPT_INQUIRY_FIELDS)
        ticket.inquiry = strip_inquiry(ticket.inquiry)
        ticket.decision = strip_words(ticket.decision)
        ticket.subject = ticket.sender = None  # a mail's subject and From are the person's
        ticket.updated_at = now
        detail = {"inquiry_fields": removed, "attachments": attachments.get(ticket.id, 0)}
        session.add_all(
            [ticket, TicketEvent(ticket_id=ticket.id, at=now, actor="system", action=PURGED,
                                 detail=detail)]
        )  # fmt: skip
    await session.flush()
    return PurgedTickets(len(found), sum(attachments.values()))


async def _attachment_counts(session: AsyncSession, ids: list[str]) -> dict[str, int]:
    query = (
        select(Attachment.ticket_id, func.count())
        .where(col(Attachment.ticket_id).in_(ids))
        .group_by(col(Attachment.ticket_id))
    )
    return {ticket_id: count for ticket_id, count in (await session.exec(query)).all()}


async def _strip_trail(session: AsyncSession, emails: dict[str, str]) -> None:
    """Texts go (a note or an answer may say anything about anyone), and so do details
    that are no routing fact and the person's address as an actor; what was done, when,
    by which staff and with which routing facts stays."""
    ids = list(emails)
    await session.exec(
        update(TicketEvent).where(col(TicketEvent.ticket_id).in_(ids)).values(reason=None)
    )
    trail = await session.exec(select(TicketEvent).where(col(TicketEvent.ticket_id).in_(ids)))
    for event in trail:
        kept = {k: v for k, v in event.detail.items() if k in KEPT_DETAIL_KEYS}
        email = emails[event.ticket_id].lower()
        by_person = event.action in _WRITTEN_BY_THE_PERSON or (
            bool(email) and event.actor.lower() == email
        )
        if kept != event.detail or by_person:
            event.detail = kept
            event.actor = PURGED_ACTOR if by_person else event.actor
            session.add(event)
