"""The mailbox of replies to tickets: `svar+<reference>@<reply domain>` of an existing
ticket. An automatic message (an out-of-office, a bounce, our own mail come back) is taken
and dropped: refusing it would only make another automatic message."""

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.inbound.mail import automatic, body_of, images_of
from routing.ticketing import replies, tickets, uploads
from routing.ticketing.models import Ticket

log = logging.getLogger(__name__)


@dataclass
class TicketReplies:
    """RCPT: the address names a live ticket; DATA: the reply joins its trail."""

    sessions: async_sessionmaker[AsyncSession]
    reply_domain: str
    own_addresses: frozenset[str]
    name = "replies"

    def reference(self, address: str) -> str | None:
        local, _, domain = address.rpartition("@")
        return replies.reference_in(local) if domain.lower() == self.reply_domain else None

    async def accept(self, address: str) -> str | None:
        if (reference := self.reference(address)) is None:
            return None
        async with self.sessions() as db:
            found = await tickets.get_ticket_by_reference(session=db, reference=reference)
        return reference if found else None

    async def deliver(self, message: EmailMessage, keys: list[str], mail_from: str) -> str:
        if why := automatic(message, mail_from, self.own_addresses):
            log.info("inbound: dropped an automatic message (%s)", why)
            return "250 OK: automatic message, not added"
        async with self.sessions() as db:
            for reference in sorted(set(keys)):
                ticket = await tickets.get_ticket_by_reference(session=db, reference=reference)
                if ticket is not None:
                    await self.add(db, ticket, message)
            await db.commit()
        return "250 OK: added to the ticket"

    async def add(self, db: AsyncSession, ticket: Ticket, message: EmailMessage) -> None:
        sender = parseaddr(str(message.get("From", "")))[1].lower() or "okänd avsändare"
        files, refused = [], []
        for data in images_of(message):
            if problem := uploads.upload_error(data):
                refused.append(problem)
                continue
            files.append(uploads.add_screenshot(session=db, ticket_id=ticket.id, data=data).id)
        await db.flush()
        detail = {"attachments": files, "refused": refused, "subject": str(message["Subject"])}
        text = replies.reply_text(body_of(message))
        await replies.add_reply(session=db, ticket=ticket, sender=sender, text=text, detail=detail)
        log.info("inbound: a reply joined %s (%d images)", ticket.reference, len(files))
