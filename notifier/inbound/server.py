"""`notifier inbound`: one SMTP server for every mailbox of mail coming back (CONTRACTS §4).

The relay hands the service's addresses here. Each mailbox (replies to tickets, and the
others compose wires) says at RCPT whether an address is its own; an address no mailbox
takes gets 550, so the relay bounces it and nothing is stored. The message is parsed once
at DATA and handed to each mailbox with the keys its addresses gave.
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Protocol

from aiosmtpd.smtp import SMTP

log = logging.getLogger(__name__)

NO_SUCH = "550 5.1.1 No such ticket address"


class Mailbox(Protocol):
    """One kind of address `notifier inbound` answers for."""

    name: str

    async def accept(self, address: str) -> str | None:
        """The key this address names in this mailbox, or None if it is not ours."""

    async def deliver(self, message: EmailMessage, keys: list[str], mail_from: str) -> str:
        """Take the message for these keys; the SMTP reply."""


@dataclass
class Inbound:
    """The aiosmtpd handler: RCPT finds the mailbox, DATA hands the message to it."""

    mailboxes: Sequence[Mailbox]
    hostname: str

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        for mailbox in self.mailboxes:
            if (key := await mailbox.accept(address)) is not None:
                envelope.rcpt_tos.append(address)
                envelope.__dict__.setdefault("keys", []).append((mailbox, key))
                return "250 OK"
        log.info("inbound: refused a recipient that no mailbox takes")
        return NO_SUCH

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        by_mailbox: dict[str, tuple[Mailbox, list[str]]] = {}
        for mailbox, key in envelope.__dict__.get("keys", []):
            by_mailbox.setdefault(mailbox.name, (mailbox, []))[1].append(key)
        reply = "250 OK"
        for mailbox, keys in by_mailbox.values():
            reply = await mailbox.deliver(message, keys, envelope.mail_from or "")
        return reply


async def serve(inbound: Inbound, *, host: str, port: int, max_bytes: int) -> None:
    """Accept mail until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(inbound, data_size_limit=max_bytes, hostname=inbound.hostname),
        host,
        port,
    )
    log.info("inbound: listening on %s:%d for %s", host, port, inbound.hostname)
    async with server:
        await server.serve_forever()
