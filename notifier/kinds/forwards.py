"""The ticket forward kind's steps: a forward carries its ticket's screenshots, and a
delivered forward marks its ticket forwarded, with an audit event."""

from collections import defaultdict

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.kinds import Prepared
from notifier.pipeline.models import OutboxMessage
from routing.ticketing import tickets
from routing.ticketing.models import Attachment, Ticket


class ForwardSteps:
    async def prepare(
        self, session: AsyncSession, rows: list[OutboxMessage], prepared: Prepared
    ) -> None:
        """Attachments are read at delivery, not when queued: the web form stores
        screenshots after the ticket row, and a retry still sends them all."""
        found = await load_attachments(session, {row.ticket_id for row in rows if row.ticket_id})
        for row in rows:
            assert row.id is not None
            prepared.files[row.id] = found.get(row.ticket_id or "", [])

    async def after_delivery(self, session: AsyncSession, rows: list[OutboxMessage]) -> None:
        for row in rows:
            ticket = await session.get(Ticket, row.ticket_id)
            if ticket is not None:  # deleted meanwhile: nothing left to mark
                await tickets.mark_forwarded(
                    session=session, ticket=ticket, channel=row.channel, recipient=row.recipient
                )


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
