"""A real SMTP server for tests: aiosmtpd on loopback, keeping what it accepts.

Recipients starting with "refused" get 550, with "busy" 451; the first `busy` DATA
commands are deferred with 451 (with `closing`, 421 and the connection closed, as a relay
going down answers). `multiline` answers RCPT and DATA over several lines; `close_after`
closes each connection after that many messages, between the batch's messages.
`LimitedController` is a relay that allows a client only so many connections at once, and
greets the next with 421.
"""

import asyncio
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Mailbox:
    """With `pipelining` it offers PIPELINING, as Postfix does (aiosmtpd reads pipelined
    commands in order, but does not say so)."""

    def __init__(
        self,
        *,
        pipelining: bool = False,
        multiline: bool = False,
        closing: bool = False,
        close_after: int = 0,
    ) -> None:
        self.pipelining = pipelining
        self.multiline = multiline
        self.closing = closing
        self.close_after = close_after
        self.closed = 0  # connections this relay closed itself
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # each message exactly as received after DATA
        self.mail_from: list[str] = []  # each message's envelope sender
        self.helo_names: list[str] = []
        self.sessions = 0
        self.busy = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        self.helo_names.append(hostname)
        session.host_name = hostname
        if not self.pipelining:
            return responses
        *lines, last = responses
        return [*lines, "250-PIPELINING", last]

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("refused"):
            return self._answer("550 5.1.1 No such mailbox", "<" + address + ">")
        if address.startswith("busy"):
            return self._answer("451 4.3.0 Try again later")
        envelope.rcpt_tos.append(address)
        return self._answer("250 OK", "recipient accepted")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.busy:
            self.busy -= 1
            if self.closing:
                self._close(server)
                return self._answer("421 4.3.0 Service not available", "closing the connection")
            return self._answer("451 4.3.0 Try again later")
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.raw.append(envelope.original_content)
        self.mail_from.append(envelope.mail_from)
        session.messages = getattr(session, "messages", 0) + 1
        if self.close_after and session.messages % self.close_after == 0:
            self._close(server)
        return self._answer("250 Message accepted", "queued")

    def _answer(self, answer: str, *more: str) -> str:
        """`answer`, or with `multiline` the same code over several lines ("250-…")."""
        if not self.multiline:
            return answer
        code = answer[:3]
        *first, last = [answer[4:], *(more or ("end of answer",))]
        return "\r\n".join([*(f"{code}-{line}" for line in first), f"{code} {last}"])

    def _close(self, server: Any) -> None:
        """Once the answer being returned is written: the server's side of the TCP
        connection closes, as a relay does after a 421 or at its limit of messages."""
        self.closed += 1
        asyncio.get_running_loop().call_soon(server.transport.close)

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_smtp(port: int, mailbox: Mailbox | None = None) -> tuple[Controller, Mailbox]:
    mailbox = mailbox or Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, mailbox


class LimitedController(Controller):
    """A relay that greets a connection beyond `most` open at once with 421 and closes it;
    `refused` counts those."""

    def __init__(self, handler: Mailbox, *, most: int, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.most, self.open, self.refused = most, 0, 0

    def factory(self) -> SMTP:
        controller = self

        class Limited(SMTP):
            def connection_made(self, transport: Any) -> None:
                controller.open += 1
                self._over = controller.open > controller.most
                super().connection_made(transport)

            def connection_lost(self, error: Exception | None) -> None:
                controller.open -= 1
                super().connection_lost(error)

            async def _handle_client(self) -> None:
                if not self._over:
                    await super()._handle_client()
                    return
                controller.refused += 1
                await self.push("421 4.7.0 Too many connections from your host")
                assert self.transport is not None
                self.transport.close()

        return Limited(self.handler, **self.SMTP_kwargs)
