"""The mailbox of replies to tickets: `svar+<reference>.<mac>@<reply domain>` of a ticket
(routing.ticketing.replies.reply_address). An automatic message (an out-of-office, a
bounce, our own mail come back) is taken and dropped: refusing it would only make another
automatic message.

A reply from another address than the ticket's, or one the trusted relay's results cast
doubt on, is kept but held: it waits in the trail, marked, until staff accept it. A
ticket whose personal data retention has removed takes no more replies (550): a reply
would bring new personal data to a ticket that is never purged again.
"""

import logging
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.inbound import authresults
from notifier.inbound.mail import (
    Refusal,
    automatic,
    body_of,
    screenshots_of,
    sender_of,
    subject_of,
)
from routing.ticketing import replies, retention, tickets, uploads
from routing.ticketing.models import Ticket

log = logging.getLogger(__name__)

PURGED = "550 5.1.1 This ticket is closed and its data deleted; please ask a new question"
NOT_THE_ASKER = "Svaret kommer från en annan adress än den som frågade."


@dataclass
class TicketReplies:
    """RCPT: the address names a live ticket; DATA: the reply joins its trail."""

    sessions: async_sessionmaker[AsyncSession]
    reply_domain: str
    own_addresses: frozenset[str]
    key: bytes
    # The authserv-id of the relay whose Authentication-Results are believed; None: none.
    trusted_relay: str | None = None
    name = "replies"

    def reference(self, address: str) -> str | None:
        local, _, domain = address.rpartition("@")
        if domain.lower() != self.reply_domain:
            return None
        return replies.reference_of(local, key=self.key)

    async def accept(self, address: str) -> str | None:
        if (reference := self.reference(address)) is None:
            return None
        async with self.sessions() as db:
            found = await tickets.get_ticket_by_reference(session=db, reference=reference)
        if found is not None and found.inquiry.get(retention.PURGED):
            raise Refusal(PURGED)
        return reference if found else None

    async def deliver(self, message: EmailMessage, keys: list[str], mail_from: str) -> str:
        if why := automatic(message, mail_from, self.own_addresses):
            log.info("inbound: dropped an automatic message (%s)", why)
            return "250 OK: automatic message, not added"
        sender = sender_of(message)
        async with self.sessions() as db:
            for reference in sorted(set(keys)):
                ticket = await tickets.get_ticket_by_reference(session=db, reference=reference)
                if ticket is not None and not ticket.inquiry.get(retention.PURGED):
                    await self.add(db, ticket, message, sender)
            await db.commit()
        return "250 OK: added to the ticket"

    def held(self, ticket: Ticket, message: EmailMessage, sender: str) -> str | None:
        """Why this reply waits for staff, or None."""
        if sender != str(ticket.inquiry.get("email") or "").lower():
            return NOT_THE_ASKER
        return authresults.doubt(message, self.trusted_relay)

    async def add(
        self, db: AsyncSession, ticket: Ticket, message: EmailMessage, sender: str
    ) -> None:
        images = screenshots_of(message)
        files = [
            uploads.attach(session=db, ticket_id=ticket.id, screenshot=screenshot).id
            for screenshot in images.kept
        ]
        await db.flush()
        detail: dict[str, object] = {"attachments": files, "refused": images.refused}
        if subject := subject_of(message):
            detail["subject"] = subject
        held = self.held(ticket, message, sender)
        text = replies.reply_text(body_of(message))
        await replies.add_reply(
            session=db, ticket=ticket, sender=sender, text=text, detail=detail, held=held
        )
        log.info(
            "inbound: a reply joined %s (%d images, held: %s)",
            ticket.reference,
            len(files),
            bool(held),
        )
