"""`notifier inbound`: one SMTP server for every mailbox of mail coming back (docs/contracts.md §4).

The relay hands the service's addresses here. Each mailbox (replies to tickets, and the
others compose wires) says at RCPT whether an address is its own; an address no mailbox
takes gets 550, so the relay bounces it and nothing is stored. The message is read once
at DATA (`mail.read`, in a worker thread) and handed to each mailbox with the keys its
addresses gave.

What every mailbox gets from here: the null sender as "" (aiosmtpd says "<>"); a fixed
ASCII reply for every failure — 451 4.3.0 while the database is away (the relay retries),
5xx for what will never be taken — never a hang or a 500 naming the error; and refused
recipients counted per client address, so that addresses cannot be guessed at speed.
"""

import asyncio
import logging
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, AnyStr, Protocol

from aiosmtpd.smtp import SMTP
from sqlalchemy import exc as sql

from notifier.inbound import mail
from notifier.inbound.mail import Refusal

log = logging.getLogger(__name__)

NO_SUCH = "550 5.1.1 No such ticket address"
TRANSIENT = "451 4.3.0 Temporary failure, please try again later"
FAILED = "554 5.3.0 The message could not be processed"
THROTTLED = "421 4.7.0 Too many refused recipients, try again later"

# Failures that pass: the database or the network away for a while.
_TRANSIENT_ERRORS = (
    sql.OperationalError,
    sql.InterfaceError,
    sql.DisconnectionError,
    sql.TimeoutError,
    OSError,
    TimeoutError,
)


class Mailbox(Protocol):
    """One kind of address `notifier inbound` answers for. Either method may raise
    `mail.Refusal` for a refusal of its own; any other error is answered by the server."""

    name: str

    async def accept(self, address: str) -> str | None:
        """The key this address names in this mailbox, or None if it is not ours."""

    async def deliver(self, message: EmailMessage, keys: list[str], mail_from: str) -> str:
        """Take the message (read and checked by `mail.read`) for these keys; `mail_from`
        is "" for the null sender. Returns the SMTP reply."""


@dataclass
class Throttle:
    """Refused recipients per client address: past `limit` within `window` seconds, every
    RCPT of that client is answered 421 without looking (a valid address too, so that the
    answer says nothing)."""

    limit: int = 20
    window: float = 600.0
    clients: int = 10_000  # the most remembered; the oldest forgotten first
    _refused: "OrderedDict[str, deque[float]]" = field(default_factory=OrderedDict)

    def over(self, client: str) -> bool:
        times = self._refused.get(client)
        since = time.monotonic() - self.window
        while times and times[0] < since:
            times.popleft()
        return times is not None and len(times) >= self.limit

    def refused(self, client: str) -> None:
        times = self._refused.setdefault(client, deque(maxlen=self.limit))
        times.append(time.monotonic())
        self._refused.move_to_end(client)
        while len(self._refused) > self.clients:
            self._refused.popitem(last=False)


@dataclass
class Inbound:
    """The aiosmtpd handler: RCPT finds the mailbox, DATA hands the message to it."""

    mailboxes: Sequence[Mailbox]
    hostname: str
    throttle: Throttle = field(default_factory=Throttle)
    # Messages read at once (parsing and image decoding take CPU and memory).
    reading: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        client = str((session.peer or ("?",))[0])
        if self.throttle.over(client):
            log.warning("inbound: a client past the limit of refused recipients")
            return THROTTLED
        try:
            reply = await self._recipient(envelope, address)
        except Refusal as refusal:
            reply = refusal.reply
        except Exception as error:
            return failed(error, "RCPT")
        if not reply.startswith("250"):
            self.throttle.refused(client)
            log.info("inbound: refused a recipient (%s)", reply[:9])
        return reply

    async def _recipient(self, envelope: Any, address: str) -> str:
        for mailbox in self.mailboxes:
            if (key := await mailbox.accept(address)) is not None:
                envelope.rcpt_tos.append(address)
                envelope.__dict__.setdefault("keys", []).append((mailbox, key))
                return "250 OK"
        return NO_SUCH

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        try:
            async with self.reading:
                message = await asyncio.to_thread(mail.read, envelope.content)
            return await self._deliver(message, envelope)
        except Refusal as refusal:
            log.info("inbound: refused a message (%s)", refusal.reply[:9])
            return refusal.reply
        except Exception as error:
            return failed(error, "DATA")

    async def _deliver(self, message: EmailMessage, envelope: Any) -> str:
        by_mailbox: dict[str, tuple[Mailbox, list[str]]] = {}
        for mailbox, key in envelope.__dict__.get("keys", []):
            by_mailbox.setdefault(mailbox.name, (mailbox, []))[1].append(key)
        mail_from = "" if (envelope.mail_from or "") in mail.NULL_SENDERS else envelope.mail_from
        reply = "250 OK"
        for mailbox, keys in by_mailbox.values():
            reply = await mailbox.deliver(message, keys, mail_from)
        return reply

    async def handle_exception(self, error: Exception) -> str:
        """What aiosmtpd answers for an error outside the hooks: fixed, never the error."""
        return failed(error, "session", transient=True)


def failed(error: BaseException, stage: str, *, transient: bool = False) -> str:
    """The fixed reply for `error`, logged by its class and frames only: its message may
    hold an SQL statement with a person's address in it."""
    passing = transient or isinstance(error, _TRANSIENT_ERRORS)
    if isinstance(error, sql.DBAPIError) and error.connection_invalidated:
        passing = True
    frames = "".join(traceback.format_tb(error.__traceback__))
    log.error("inbound: %s failed (%s)\n%s", stage, type(error).__name__, frames)
    return TRANSIENT if passing else FAILED


class Server(SMTP):
    """aiosmtpd's SMTP with replies always ASCII (its own would raise on "å" and leave
    the client waiting), and a 421 that closes the connection as RFC 5321 says."""

    async def push(self, status: AnyStr) -> None:
        line = status.encode("ascii", "replace") if isinstance(status, str) else status
        await super().push(line)
        if line.startswith(b"421") and self.transport is not None:
            self.transport.close()


async def serve(inbound: Inbound, *, host: str, port: int, max_bytes: int) -> None:
    """Accept mail until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Server(inbound, data_size_limit=max_bytes, hostname=inbound.hostname),
        host,
        port,
    )
    log.info("inbound: listening on %s:%d for %s", host, port, inbound.hostname)
    async with server:
        await server.serve_forever()
