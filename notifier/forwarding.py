"""Forwarding tickets to Migrationsverket: through the outbox, so that the one sender that
delivers notifications retries forwards too and none is lost.

A new ticket's forward is added in the transaction that creates the ticket (the hook the
routing router calls). Where the destination has an HTTP endpoint configured it is POSTed
there as JSON; otherwise it is mailed to the destination's configured mailbox.
"""

import base64
import json
import logging
from collections import defaultdict
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import COMPENSATION_TYPES
from domain.organisations import find_organisation
from notifier.delivery import Transport
from notifier.http_transport import Enricher, HttpTransport
from notifier.models import OutboxMessage
from notifier.settings import Settings
from routing import tickets
from routing.models import Attachment, Ticket
from routing.schemas import Decision
from routing.tickets import TicketCreatedHook

log = logging.getLogger(__name__)

KIND = "ticket"

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


def forward_hook(settings: Settings) -> TicketCreatedHook:
    async def on_ticket_created(session: AsyncSession, ticket: Ticket, decision: Decision) -> None:
        session.add(forward_message(ticket, settings))

    return on_ticket_created


def forward_message(ticket: Ticket, settings: Settings) -> OutboxMessage:
    """The outbox row forwarding `ticket` to its destination's configured address."""
    subject, text = render(ticket)
    endpoint = settings.forward_endpoints.get(ticket.destination)
    common: dict[str, Any] = {
        # One forward per ticket and destination: a retried request cannot add a second,
        # while a ticket rerouted elsewhere gets its own.
        "message_id": f"ticket.{ticket.id}.{ticket.destination}",
        "kind": KIND,
        "ticket_id": ticket.id,
        "subject": subject,
    }
    if endpoint:
        body = json.dumps(payload(ticket, subject, text), ensure_ascii=False)
        return OutboxMessage(channel="http", recipient=endpoint, body_text=body, **common)
    email = ticket.inquiry.get("email")
    return OutboxMessage(
        channel="email",
        recipient=mailbox(ticket, settings),
        body_text=text,
        # The case officer answers the person directly.
        headers={"Reply-To": email} if email else {},
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
    organisation = organisation_name(inquiry.get("organisation"))
    subject = f"[{ticket.reference}] {issue} – {organisation}"
    lines = [
        f"Supportärende {ticket.reference}",
        f"Ärende: {issue}",
        f"Organisation: {organisation}",
    ]
    if code := inquiry.get("compensation_type"):
        lines.append(f"Ersättning: {COMPENSATION_TYPES[code].name}")
    lines += [f"{label}: {inquiry[key]}" for key, label in FIELD_LABELS.items() if inquiry.get(key)]
    lines += ["", "Meddelande:", inquiry.get("message") or "(inget meddelande)", ""]
    lines.append(f"Dirigerat av regel {ticket.rule_id} (version {ticket.rule_version}).")
    return subject, "\n".join(lines) + "\n"


def organisation_name(ref: dict[str, str] | None) -> str:
    if not ref:
        return "organisation ej angiven"
    found = find_organisation(ref["kind"], ref["code"])
    return f"{found.name} ({ref['code']})" if found else f"{ref['kind']} {ref['code']}"


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


class TrackForwards:
    """Wraps a channel's transport: once a ticket's forward is delivered, the ticket is
    marked forwarded with an audit event. The sender needs no knowledge of tickets."""

    def __init__(self, inner: Transport, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._inner = inner
        self._sessions = sessions

    async def deliver(self, messages: list[OutboxMessage]) -> dict[int, Exception | None]:
        results = await self._inner.deliver(messages)
        delivered = [
            m for m in messages if m.kind == KIND and m.ticket_id and results.get(m.id or 0) is None
        ]
        if delivered:
            try:
                await self._mark(delivered)
            except Exception:
                # The forward did arrive: the outbox must record it as sent whatever
                # happens here, or it would be sent twice.
                log.exception("could not mark %d ticket(s) forwarded", len(delivered))
        return results

    async def _mark(self, delivered: list[OutboxMessage]) -> None:
        async with self._sessions() as session:
            for message in delivered:
                ticket = await session.get(Ticket, message.ticket_id)
                if ticket is not None:  # deleted meanwhile: nothing left to mark
                    await tickets.mark_forwarded(
                        session=session,
                        ticket=ticket,
                        channel=message.channel,
                        recipient=message.recipient,
                    )
            await session.commit()


async def load_attachments(
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


def attachments_for_http(sessions: async_sessionmaker[AsyncSession]) -> Enricher:
    """An HttpTransport enricher adding each forwarded ticket's attachments, base64 in the
    JSON. Loaded at delivery, not when queued: the web form stores screenshots after the
    ticket row, and a retry then still sends them all."""

    async def enrich(messages: list[OutboxMessage]) -> dict[int, dict[str, Any]]:
        forwards = [m for m in messages if m.kind == KIND and m.ticket_id and m.id]
        if not forwards:
            return {}
        async with sessions() as session:
            found = await load_attachments(session, {m.ticket_id for m in forwards if m.ticket_id})
        return {
            m.id: {"attachments": [attachment_json(a) for a in found.get(m.ticket_id or "", [])]}
            for m in forwards
            if m.id is not None
        }

    return enrich


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    return {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "data_base64": base64.b64encode(attachment.data).decode("ascii"),
    }


def channels(
    *,
    email: Transport,
    http_client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> dict[str, Transport]:
    """The sender's channel → transport map with ticket forwarding wired in. The caller
    owns the httpx client (built once, closed at shutdown)."""
    http = HttpTransport(http_client, enrich=attachments_for_http(sessions))
    return {
        "email": TrackForwards(email, sessions),
        "http": TrackForwards(http, sessions),
    }


def http_client(settings: Settings) -> httpx.AsyncClient:
    # No redirects: a forward that moved is a configuration error, reported as permanent.
    return httpx.AsyncClient(timeout=settings.forward_http_timeout, follow_redirects=False)
