"""Forwarding tickets to Migrationsverket: through the outbox, so that the one sender that
delivers notifications retries forwards too and none is lost.

A new ticket's forward is added in the transaction that creates the ticket (the hook the
routing router calls). Where the destination has an HTTP endpoint configured it is POSTed
there as JSON; otherwise it is mailed to the destination's configured mailbox.
"""

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import COMPENSATION_TYPES
from domain.organisations import organisation_name
from domain.swedish import SWEDISH_TIME
from notifier.kinds.ticket_mail import answer_text, receipt_text
from notifier.outbox.models import OutboxKind, OutboxMessage, OutboxStatus
from notifier.settings import Settings
from routing.decision.schemas import Decision
from routing.ticketing.models import Ticket
from routing.ticketing.replies import reply_address
from routing.ticketing.tickets import TicketAnsweredHook, TicketCreatedHook

ISSUE_LABELS = {
    "login": "Inloggning",
    "permissions": "Behörighet",
    "browser": "Webbläsare",
    "compensation": "Fråga om ersättning",
    "eservice_general": "Allmän fråga om e-tjänsten",
    "not_eservice": "Fråga utanför e-tjänsten",
    "education_periods": "Fyraveckorsperioder",
    "notifications": "Mejlnotifieringar",
    "getting_started": "Komma igång med e-tjänsten",
}
# Field → Swedish label, in the order a case officer reads them.
FIELD_LABELS = {
    "name": "Namn",
    "email": "E-post",
    "diarienummer": "Diarienummer",
    "case_officer": "Handläggare",
    "login_step": "Inloggningssteg",
    "login_method": "Inloggningsmetod",
    "target_group": "Målgrupp",
    "asked_at": "Frågan ställd",
    "browser": "Webbläsare (User-Agent)",
}


def forward_hook(settings: Settings, key: bytes) -> TicketCreatedHook:
    async def on_ticket_created(session: AsyncSession, ticket: Ticket, decision: Decision) -> None:
        earlier = await forwards_of(session, ticket.id)
        # A reroute supersedes a forward still waiting to go to the old destination.
        await session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.ticket_id) == ticket.id,
                col(OutboxMessage.kind) == OutboxKind.TICKET,
                col(OutboxMessage.status) == OutboxStatus.PENDING,
            )
            .values(status=OutboxStatus.CANCELLED, last_error="Ärendet dirigerades om.")
        )
        session.add(forward_message(ticket, settings, key, sequence=earlier + 1))

    return on_ticket_created


async def forwards_of(
    session: AsyncSession, ticket_id: str, kind: OutboxKind = OutboxKind.TICKET
) -> int:
    query = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.ticket_id == ticket_id, OutboxMessage.kind == kind)
    )
    return (await session.exec(query)).one()


def answer_hook(settings: Settings, key: bytes) -> TicketAnsweredHook:
    """Staff answers reach the person who asked, through the same outbox as everything."""

    async def on_ticket_answered(session: AsyncSession, ticket: Ticket, text: str) -> None:
        email = ticket.inquiry.get("email")
        if not email:  # every ticket has one today; an old or imported one may not
            return
        # Counts the receipt too (the same kind): the sequence only keeps ids unique.
        sequence = await forwards_of(session, ticket.id, OutboxKind.TICKET_ANSWER) + 1
        session.add(
            OutboxMessage(
                message_id=f"ticket.{ticket.id}.answer.{sequence}",
                kind=OutboxKind.TICKET_ANSWER,
                channel="email",
                ticket_id=ticket.id,
                recipient=email,
                subject=f"Svar på din fråga till Migrationsverket [{ticket.reference}]",
                body_text=answer_text(ticket, text, settings),
                # A person wrote it (RFC 3834 §5): auto-responders may answer it.
                headers=reply_to(ticket, settings, key) | {"Auto-Submitted": "no"},
            )
        )

    return on_ticket_answered


def opened_hook(settings: Settings, key: bytes) -> TicketCreatedHook:
    """A new ticket: forwarded to its destination, and a receipt to the person."""
    forward = forward_hook(settings, key)

    async def on_ticket_opened(session: AsyncSession, ticket: Ticket, decision: Decision) -> None:
        await forward(session, ticket, decision)
        if email := ticket.inquiry.get("email"):
            session.add(
                OutboxMessage(
                    message_id=f"ticket.{ticket.id}.receipt",
                    kind=OutboxKind.TICKET_ANSWER,  # to the person, as answers are
                    channel="email",
                    ticket_id=ticket.id,
                    recipient=email,
                    subject=f"Vi har tagit emot din fråga [{ticket.reference}]",
                    body_text=receipt_text(ticket, decision, settings),
                    headers=reply_to(ticket, settings, key),
                )
            )

    return on_ticket_opened


def reply_to(ticket: Ticket, settings: Settings, key: bytes) -> dict[str, str]:
    """Where a reply goes: `notifier inbound`, which adds it to the ticket."""
    if not settings.reply_domain:
        return {}
    address = reply_address(ticket.reference, key=key, domain=settings.reply_domain)
    return {"Reply-To": address}


def forward_message(
    ticket: Ticket, settings: Settings, key: bytes, *, sequence: int = 1
) -> OutboxMessage:
    """The outbox row forwarding `ticket` to its destination's configured address;
    `sequence` counts the ticket's forwards (a reroute forwards it again)."""
    subject, text = render(ticket)
    endpoint = settings.forward_endpoints.get(ticket.destination)
    suffix = "" if sequence == 1 else f".{sequence}"
    common: dict[str, Any] = {
        # Deterministic per ticket and forward: the same forward cannot be queued twice,
        # while a reroute (even back to an earlier destination) gets its own.
        "message_id": f"ticket.{ticket.id}.{ticket.destination}{suffix}",
        "kind": OutboxKind.TICKET,
        "ticket_id": ticket.id,
        "subject": subject,
    }
    if endpoint:
        body = json.dumps(payload(ticket, subject, text), ensure_ascii=False)
        return OutboxMessage(channel="http", recipient=endpoint, body_text=body, **common)
    return OutboxMessage(
        channel="email",
        recipient=mailbox(ticket, settings),
        body_text=text,
        # Replies go through the ticket, never straight to the asker's address: a
        # Reply-To of a free-mail address under our From reads as forged
        # (SpamAssassin FREEMAIL_FORGED_REPLYTO). The asker's address is in the text.
        headers=reply_to(ticket, settings, key),
        **common,
    )


def mailbox(ticket: Ticket, settings: Settings) -> str:
    # Unconfigured, a forward still goes somewhere harmless and fails visibly there; the
    # ticket itself is on the triage desk either way.
    fallback = f"{ticket.destination}@tickets.statlig-ersattning.invalid"
    return settings.forward_mailboxes.get(ticket.destination, fallback)


def render(ticket: Ticket) -> tuple[str, str]:
    """Subject and plain text of the forward, in Swedish."""
    inquiry = ticket.inquiry
    issue = ISSUE_LABELS.get(inquiry["issue_type"], inquiry["issue_type"])
    organisation = (
        organisation_name(inquiry.get("organisation"), with_code=True) or "organisation ej angiven"
    )
    subject = f"[{ticket.reference}] {issue} – {organisation}"
    lines = [
        f"Supportärende {ticket.reference}",
        f"Ärende: {issue}",
        f"Organisation: {organisation}",
    ]
    if code := inquiry.get("compensation_type"):
        lines.append(f"Ersättning: {COMPENSATION_TYPES[code].name}")
    # One line per field whatever was stored: a line break in a value would forge a line.
    lines += [
        f"{label}: {' '.join(_shown(key, inquiry[key]).split())}"
        for key, label in FIELD_LABELS.items()
        if inquiry.get(key)
    ]
    lines += ["", "Meddelande:", inquiry.get("message") or "(inget meddelande)", ""]
    lines.append(f"Dirigerat av regel {ticket.rule_id} (version {ticket.rule_version}).")
    return subject, "\n".join(lines) + "\n"


def _shown(key: str, value: Any) -> str:
    """A stored field as a case officer reads it: a time in Swedish time."""
    if key == "asked_at":
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return f"{aware.astimezone(SWEDISH_TIME):%Y-%m-%d %H.%M} (svensk tid)"
    return str(value)


def payload(ticket: Ticket, subject: str, text: str) -> dict[str, Any]:
    """The JSON document an HTTP endpoint receives."""
    return {
        "ticket": {
            "id": ticket.id,
            "reference": ticket.reference,
            "destination": ticket.destination,
            "status": ticket.status,
            "created_at": ticket.created_at.isoformat(),
            "rule": {"id": ticket.rule_id, "version": ticket.rule_version},
        },
        "inquiry": ticket.inquiry,
        "decision": ticket.decision,
        "subject": subject,
        "text": text,
    }
