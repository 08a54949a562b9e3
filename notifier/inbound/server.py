"""`notifier inbound`: an SMTP server for replies to tickets (CONTRACTS §4).

The relay's transport for NOTIFIER_REPLY_DOMAIN points here. Mail to
`svar+<reference>@<reply domain>` of an existing ticket is accepted; every other
recipient gets 550 at RCPT, so the relay bounces it and nothing is stored. An accepted
message that is automatic (an out-of-office, a bounce, our own mail come back) is taken
with 250 and dropped: refusing it would only make another automatic message.
"""

import asyncio
import html
import logging
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from aiosmtpd.smtp import SMTP
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.ticketing import replies, tickets, uploads
from routing.ticketing.models import Ticket

log = logging.getLogger(__name__)

MAX_IMAGES = 5
NO_SUCH = "550 5.1.1 No such ticket address"
_AWAY = re.compile(
    r"^\s*(?:automatiskt svar|autosvar|frånvaro|out of office|automatic reply|auto[- ]?reply"
    r"|abwesenheit|undeliverable|olevererbar|delivery status notification)",
    re.IGNORECASE,
)


def automatic(headers: EmailMessage, mail_from: str, own: frozenset[str]) -> str | None:
    """Why a message is automatic (RFC 3834 and what mail clients really send), or None."""
    sender = parseaddr(str(headers.get("From", "")))[1].lower()
    if not mail_from:
        return "a bounce (empty envelope sender)"
    if sender in own or mail_from.lower() in own:
        return "our own mail, come back"
    if str(headers.get("Auto-Submitted", "no")).strip().lower() != "no":
        return "Auto-Submitted"
    if "X-Autoreply" in headers or "X-Autorespond" in headers:
        return "X-Autoreply"
    if str(headers.get("Precedence", "")).strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return "Precedence"
    if _AWAY.match(str(headers.get("Subject", ""))):
        return "an out-of-office subject"
    return None


def body_of(message: EmailMessage) -> str:
    """The plain text, or the HTML's text where the client sent only HTML."""
    part = message.get_body(preferencelist=("plain", "html"))
    if not isinstance(part, EmailMessage):
        return ""
    content = str(part.get_content())
    if part.get_content_subtype() == "html":
        content = re.sub(r"(?is)<(script|style).*?</\1>|<br\s*/?>|</p>", "\n", content)
        content = html.unescape(re.sub(r"<[^>]+>", "", content))
    return content


def images_of(message: EmailMessage) -> list[bytes]:
    found = []
    for part in message.iter_attachments():
        if isinstance(part, EmailMessage) and part.get_content_maintype() == "image":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                found.append(data)
    return found[:MAX_IMAGES]


@dataclass
class Inbound:
    """The aiosmtpd handler: RCPT checks the ticket, DATA adds the reply."""

    sessions: async_sessionmaker[AsyncSession]
    reply_domain: str
    own_addresses: frozenset[str]

    def reference(self, address: str) -> str | None:
        local, _, domain = address.rpartition("@")
        return replies.reference_in(local) if domain.lower() == self.reply_domain else None

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reference = self.reference(address)
        async with self.sessions() as db:
            found = reference and await tickets.get_ticket_by_reference(
                session=db, reference=reference
            )
        if not found:
            log.info("inbound: refused a recipient that is no ticket's reply address")
            return NO_SUCH
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        if why := automatic(message, envelope.mail_from or "", self.own_addresses):
            log.info("inbound: dropped an automatic message (%s)", why)
            return "250 OK: automatic message, not added"
        references = {ref for a in envelope.rcpt_tos if (ref := self.reference(a))}
        async with self.sessions() as db:
            for reference in sorted(references):
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


async def serve(inbound: Inbound, *, host: str, port: int, max_bytes: int) -> None:
    """Accept replies until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(inbound, data_size_limit=max_bytes, hostname=inbound.reply_domain),
        host,
        port,
    )
    log.info("inbound: listening on %s:%d for svar+…@%s", host, port, inbound.reply_domain)
    async with server:
        await server.serve_forever()
