"""An SMTP connection once aiosmtplib has opened it (greeting, EHLO, STARTTLS, AUTH): the
commands of its mail transactions, several in one write where the server offers
PIPELINING (RFC 2920), as Postfix does.

aiosmtplib reads one answer per command and drops an answer that arrives before it is
asked for, so it cannot pipeline: a message would cost four round trips (MAIL, RCPT, DATA,
the content), each waiting for both processes to be scheduled, and the relay would stand
idle while the sender prepares the next batch. After the handshake this protocol takes
the connection's asyncio transport over; it keeps every answer in order, one waiting
future per command written, so MAIL, RCPT and DATA go in one write and a message costs
two round trips.
"""

import asyncio
from collections import deque

import aiosmtplib
from aiosmtplib import SMTPResponse

# A line longer than this, or an answer of more lines, is not an SMTP server's.
MAX_ANSWER = 64 * 1024
QUIT_WAIT = 5.0  # seconds for the server's goodbye before the connection is closed anyway


class SmtpConnection(asyncio.Protocol):
    def __init__(self, transport: asyncio.BaseTransport, extensions: dict[str, str]) -> None:
        self._transport: asyncio.WriteTransport | None = transport  # type: ignore[assignment]
        self._extensions = {name.lower() for name in extensions}
        self._buffer = bytearray()
        self._lines: list[bytes] = []  # of the answer being read
        self._waiting: deque[asyncio.Future[SMTPResponse]] = deque()

    @classmethod
    async def open(cls, smtp: aiosmtplib.SMTP) -> "SmtpConnection":
        """Connect `smtp` (TLS and AUTH as it is configured), greet, and take over."""
        await smtp.connect()
        if smtp.is_ehlo_or_helo_needed:
            await smtp.ehlo()
        if smtp.protocol is None or smtp.protocol.transport is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        transport = smtp.protocol.transport
        connection = cls(transport, smtp.esmtp_extensions)
        transport.set_protocol(connection)
        return connection

    @property
    def is_connected(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def supports(self, extension: str) -> bool:
        return extension.lower() in self._extensions

    @property
    def pipelining(self) -> bool:
        return "pipelining" in self._extensions

    async def commands(self, *lines: bytes) -> list[SMTPResponse]:
        """Write the command lines at once; their answers, in order."""
        if any(b"\r" in line or b"\n" in line for line in lines):
            raise ValueError("a command with a line break")
        return await self._write(b"".join(line + b"\r\n" for line in lines), len(lines))

    async def content(self, stuffed: bytes) -> SMTPResponse:
        """The message after DATA's 354, dot-stuffed and ended (transaction.dot_stuffed)."""
        [answer] = await self._write(stuffed, 1)
        return answer

    async def _write(self, data: bytes, answers: int) -> list[SMTPResponse]:
        if self._transport is None or self._transport.is_closing():
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in range(answers)]
        self._waiting.extend(futures)
        self._transport.write(data)
        return [await future for future in futures]

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def quit(self) -> None:
        try:
            async with asyncio.timeout(QUIT_WAIT):
                await self.commands(b"QUIT")
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass
        finally:
            self.close()

    # asyncio.Protocol
    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\n")) != -1:
            line = bytes(self._buffer[: end + 1])
            del self._buffer[: end + 1]
            self._line(line)
        if len(self._buffer) > MAX_ANSWER:
            self._fail(aiosmtplib.SMTPResponseException(-1, "answer too long"))

    def _line(self, line: bytes) -> None:
        self._lines.append(line)
        if line[3:4] == b"-":  # more lines follow
            if len(self._lines) * 80 > MAX_ANSWER:
                self._fail(aiosmtplib.SMTPResponseException(-1, "answer too long"))
            return
        lines, self._lines = self._lines, []
        try:
            code = int(lines[-1][:3])
        except ValueError:
            self._fail(aiosmtplib.SMTPResponseException(-1, "not an SMTP answer"))
            return
        text = "\n".join(x[4:].strip().decode("utf-8", "surrogateescape") for x in lines)
        if self._waiting:  # an answer nobody asked for (a 421 before closing) is dropped
            waiter = self._waiting.popleft()
            if not waiter.done():  # given up on: its command's answer ends with it
                waiter.set_result(SMTPResponse(code, text))

    def _fail(self, exc: Exception) -> None:
        """The connection is of no more use: every waiting command gets `exc`."""
        waiting, self._waiting = self._waiting, deque()
        for waiter in waiting:
            if not waiter.done():
                waiter.set_exception(exc)
                waiter.exception()  # retrieved: nobody may await it any more
        if self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(aiosmtplib.SMTPServerDisconnected("Connection lost"))
        self._transport = None
