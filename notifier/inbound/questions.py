"""The support mailboxes (NOTIFIER_SUPPORT_ADDRESSES): every mail to one becomes a ticket
(channel `email`), routed by its words (routing.reading) with the same rules as the form.

Where the route is Migrationsverket's the ticket is forwarded and the person gets a
receipt; elsewhere the ticket is kept, closed as deflected, and the person gets the advice
the form would have shown. Automatic mail and bounces make no ticket; mailing lists and a
sender already answered often this hour get no reply (two auto-responders cannot loop).
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parseaddr

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier.inbound import autoreply
from notifier.inbound.mail import automatic, body_of
from notifier.kinds.tickets import forward_hook
from notifier.settings import Settings
from routing.decision import engine
from routing.decision.rules import RuleSet
from routing.decision.schemas import Destination
from routing.reading.domains import organisation_of
from routing.reading.mail_route import Mail, MailRoute, route_mail
from routing.reading.reader import read
from routing.reading.words import WordTable
from routing.ticketing import tickets, uploads
from routing.ticketing.models import Ticket, TicketStatus
from routing.ticketing.tickets import REFERENCE

log = logging.getLogger(__name__)
MAX_IMAGES = 5
MAX_SUBJECT = 200
MAX_MESSAGE = 5000


@dataclass
class SupportQuestions:
    """RCPT: one of the support addresses; DATA: a routed ticket and one reply."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    rules: RuleSet
    words: WordTable
    clock: Callable[[], datetime]
    key: bytes  # signs the reply address a receipt gives
    # Adds a mail to an existing ticket (the replies mailbox's): a person who writes to the
    # support address again, quoting the reference in the subject, continues that ticket.
    follow_up: Callable[[AsyncSession, Ticket, EmailMessage, str], Awaitable[None]] | None = None
    name = "questions"

    @property
    def own_addresses(self) -> frozenset[str]:
        # Only the service's sender: a mail from one support mailbox to another (SEA
        # forwarding to the contact center) is a question like any.
        return frozenset({self.settings.mail_from.lower()})

    async def accept(self, address: str) -> str | None:
        key = address.strip().lower()
        return key if key in self.settings.support_addresses else None

    async def deliver(self, message: EmailMessage, keys: list[str], mail_from: str) -> str:
        if why := self.automatic(message, mail_from):
            log.info("inbound: an automatic message to a support address dropped (%s)", why)
            return "250 OK: automatic message, no question"
        try:
            return await self.take(message, sorted(set(keys))[0], mail_from)
        except (SQLAlchemyError, OSError) as exc:
            # The database is away: 451 keeps the mail in the relay's queue, where a 5xx
            # would bounce the person's question back to them.
            log.warning("inbound: support mail deferred (%s)", type(exc).__name__)
            return "451 4.3.0 Temporary failure, please try again later"

    async def take(self, message: EmailMessage, address: str, mail_from: str) -> str:
        """One ticket a mail, however many support addresses it was sent to."""
        async with self.sessions() as db:
            if (earlier := await self.followed_up(db, message, mail_from)) is not None:
                assert self.follow_up is not None
                await self.follow_up(db, earlier, message, earlier.sender or "")
                await db.commit()
                return "250 OK: added to the ticket"
            ticket, route = await self.open(db, message, address, mail_from)
            await self.answer(db, ticket, route, message)
            await db.commit()
        log.info("inbound: %s from mail, rule %s", ticket.reference, route.decision.rule.id)
        return "250 OK: the question is a ticket"

    async def followed_up(
        self, db: AsyncSession, message: EmailMessage, mail_from: str
    ) -> Ticket | None:
        """The ticket whose reference the subject names, if it is this sender's own."""
        found = REFERENCE.search(header(message, "Subject").upper())
        if self.follow_up is None or found is None:
            return None
        ticket = await tickets.get_ticket_by_reference(session=db, reference=found.group(0))
        sender = valid_email(parseaddr(header(message, "From"))[1]) or valid_email(mail_from)
        return ticket if ticket is not None and sender and ticket.sender == sender else None

    def automatic(self, message: EmailMessage, mail_from: str) -> str | None:
        try:
            return automatic(message, mail_from, self.own_addresses)
        except ValueError:  # a header the email package will not parse: a person's mistake
            return None

    def route(
        self, message: EmailMessage, address: str, mail_from: str, screenshots: int
    ) -> MailRoute:
        name, sender = parseaddr(header(message, "From"))
        subject, body = header(message, "Subject"), text_of(message)
        # The reply goes to the person the mail is from; the envelope where From is bad.
        email = valid_email(sender) or valid_email(mail_from)
        mail = Mail(
            reading=read(self.words, subject, body),
            mailbox=Destination(self.settings.support_addresses[address]),
            address=address,
            organisation=organisation_of(email) if email else None,
            name=clean(name, 200) or None,
            email=email,
            message=clean(body, MAX_MESSAGE, multiline=True) or None,
            screenshots=screenshots,
        )
        return route_mail(mail, self.rules, self.words, self.clock())

    async def open(
        self, db: AsyncSession, message: EmailMessage, address: str, mail_from: str
    ) -> tuple[Ticket, MailRoute]:
        images = [data for data in screenshots_of(message) if uploads.upload_error(data) is None]
        route = self.route(message, address, mail_from, len(images))
        ticket = await tickets.create_ticket(
            session=db, inquiry=route.inquiry, decision=route.decision
        )
        ticket.decision = route.decision_record()
        ticket.channel, ticket.mailbox = "email", address
        ticket.subject = clean(header(message, "Subject"), MAX_SUBJECT) or None
        ticket.sender = route.inquiry.email
        for data in images:
            uploads.add_screenshot(session=db, ticket_id=ticket.id, data=data)
        if engine.needs_ticket(route.decision):
            await forward_hook(self.settings, self.key)(db, ticket, route.decision)
        else:
            reason = "Frågan hör hemma någon annanstans; den som frågade fick råd om vart."
            ticket.status = TicketStatus.DEFLECTED
            moved = {"from": TicketStatus.NEW, "to": TicketStatus.DEFLECTED}
            await tickets.record(db, ticket, tickets.SYSTEM, "status", reason, moved)
        return ticket, route

    async def answer(
        self, db: AsyncSession, ticket: Ticket, route: MailRoute, message: EmailMessage
    ) -> None:
        """One automatic reply, unless the mail is a list's or the sender had enough."""
        if not ticket.sender or "List-Id" in message:
            return
        if await self.replied(db, ticket) > self.settings.support_replies_per_hour:
            log.info("inbound: no reply to %s: its sender wrote too often", ticket.reference)
            return
        ids = header(message, "Message-ID"), header(message, "References")
        db.add(
            autoreply.reply(
                ticket, route, self.settings, self.key, message_id=ids[0], references=ids[1]
            )
        )

    async def replied(self, db: AsyncSession, ticket: Ticket) -> int:
        """Mail from this sender this last hour, this one included."""
        since = utcnow() - timedelta(hours=1)  # created_at's clock
        query = (
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.sender == ticket.sender, col(Ticket.created_at) >= since)
        )
        return (await db.exec(query)).one()


def header(message: EmailMessage, name: str) -> str:
    """A header's text, RFC 2047 decoded, read from the raw value: the email package's
    parsed headers raise on some malformed ones (a line break in an address)."""
    raw = next((str(v) for k, v in message.raw_items() if k.lower() == name.lower()), "")
    try:
        return str(make_header(decode_header(raw)))
    except (LookupError, UnicodeError, ValueError, HeaderParseError):
        return raw


def text_of(message: EmailMessage) -> str:
    """The mail's text; a part in a charset Python does not know reads as no text (the
    ticket keeps the rest) rather than failing the delivery."""
    try:
        return body_of(message)
    except (LookupError, UnicodeError, ValueError, KeyError):
        return ""


def screenshots_of(message: EmailMessage) -> list[bytes]:
    """Every image of the mail, attached or pasted inline (Outlook's multipart/related)."""
    found = []
    for part in message.walk():
        if part.get_content_maintype() == "image":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                found.append(data)
    return found[:MAX_IMAGES]


_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


def valid_email(address: str) -> str | None:
    """The sender's address where the inquiry would take it: the reply goes there."""
    try:
        return _EMAIL.validate_python(address.strip().lower()) if len(address) <= 320 else None
    except ValidationError:
        return None


def clean(text: str, limit: int, *, multiline: bool = False) -> str:
    """Text as the inquiry takes it: no control characters, within its length."""
    kept = "".join(c for c in text if c.isprintable() or (multiline and c in "\n\t")).strip()
    return kept[:limit].strip()
