"""The ticket forward kind's steps: a forward carries its ticket's screenshots, and a
delivered forward marks its ticket forwarded, with an audit event."""

from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.kinds import Prepared
from notifier.outbox.models import Claimed
from routing.ticketing import tickets
from routing.ticketing.models import Ticket
from routing.ticketing.triage import attachments_by_ticket


class ForwardSteps:
    async def prepare(self, session: AsyncSession, rows: list[Claimed], prepared: Prepared) -> None:
        """Attachments are read at delivery, not when queued: the web form stores
        screenshots after the ticket row, and a retry still sends them all."""
        found = await attachments_by_ticket(
            session, {row.ticket_id for row in rows if row.ticket_id}
        )
        for row in rows:
            prepared.files[row.id] = found.get(row.ticket_id or "", [])

    async def after_delivery(self, session: AsyncSession, rows: list[Claimed]) -> None:
        for row in rows:
            ticket = await session.get(Ticket, row.ticket_id)
            if ticket is not None:  # deleted meanwhile: nothing left to mark
                await tickets.mark_forwarded(
                    session=session, ticket=ticket, channel=row.channel, recipient=row.recipient
                )
