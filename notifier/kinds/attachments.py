"""Delivering ticket forwards: the sender's channels with forwarding wired in.

The sender knows nothing of tickets. Its transports are wrapped here: after a forward is
delivered its ticket is marked forwarded, and a ticket's attachments are read at delivery
and sent along.
"""

import asyncio
import base64
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.channels.base import Transport
from notifier.channels.email import email_transport
from notifier.channels.http import Enricher, HttpTransport
from notifier.kinds.tickets import KIND
from notifier.pipeline.models import OutboxMessage
from notifier.settings import Settings
from notifier.web.app import Services
from routing.ticketing import tickets
from routing.ticketing.models import Attachment, Ticket

log = logging.getLogger(__name__)


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


AttachmentsOf = Callable[[list[OutboxMessage]], Awaitable[dict[int, list[Attachment]]]]


def ticket_attachments(sessions: async_sessionmaker[AsyncSession]) -> AttachmentsOf:
    """Per outbox message id, the attachments of the ticket it forwards. Read at delivery,
    not when queued: the web form stores screenshots after the ticket row, and a retry
    still sends them all. Any channel's transport can take this."""

    async def attachments_of(messages: list[OutboxMessage]) -> dict[int, list[Attachment]]:
        forwards = {m.id: m.ticket_id for m in messages if m.kind == KIND and m.ticket_id and m.id}
        if not forwards:
            return {}
        async with sessions() as session:
            found = await load_attachments(session, set(forwards.values()))
        return {message_id: found.get(ticket_id, []) for message_id, ticket_id in forwards.items()}

    return attachments_of


def attachments_for_http(sessions: async_sessionmaker[AsyncSession]) -> Enricher:
    """An HttpTransport enricher: the ticket's attachments, base64 in the JSON."""
    attachments_of = ticket_attachments(sessions)

    async def enrich(messages: list[OutboxMessage]) -> dict[int, dict[str, Any]]:
        found = await attachments_of(messages)
        return {
            message_id: {"attachments": [attachment_json(a) for a in attachments]}
            for message_id, attachments in found.items()
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


def forwarding_channels(services: Services) -> Callable[[Transport], dict[str, Transport]]:
    """For the sender's composition (`channels=`): given the email transport, the channel
    map. One httpx client serves the process; a worker closes it when the workers stop."""
    client = http_client(services.settings)

    async def close_client_at_exit() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await client.aclose()

    services.workers.append(close_client_at_exit)
    # Notifications keep the email transport given; forwards go through one of the same
    # configuration that also attaches the ticket's files.
    files = ticket_attachments(services.sessions)
    forwards = email_transport(services.settings, attachments_of=files)
    return lambda email: channels(
        email=ByKind(tickets=forwards, other=email),
        http_client=client,
        sessions=services.sessions,
    )


class ByKind:
    """Ticket forwards through one transport, every other message through another."""

    def __init__(self, *, tickets: Transport, other: Transport) -> None:
        self._tickets = tickets
        self._other = other

    async def deliver(self, messages: list[OutboxMessage]) -> dict[int, Exception | None]:
        forwards = [m for m in messages if m.kind == KIND]
        rest = [m for m in messages if m.kind != KIND]
        results: dict[int, Exception | None] = {}
        if forwards:
            results |= await self._tickets.deliver(forwards)
        if rest:
            results |= await self._other.deliver(rest)
        return results
