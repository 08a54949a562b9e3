"""The sender's baselines on the wire: the same prebuilt message sent over the same number
of connections, each connected (EHLO done) before the clock starts.

- `pipelined`: a bare asyncio client that does what our sender does on a server offering
  PIPELINING (notifier.channels.transaction): MAIL, RCPT and DATA in one write, then the
  dot-stuffed content; two round trips a message, nothing parsed but the reply codes.
- `sendmail`: aiosmtplib's `sendmail`, which cannot pipeline: four round trips a message.
  Kept as a second row, the baseline of earlier runs.

CPU seconds are read from /proc for the process that sends (`cpu_seconds`)."""

import asyncio
import os
import time
from email import message_from_bytes
from email.utils import parseaddr
from pathlib import Path

import aiosmtplib

from notifier.channels.transaction import dot_stuffed

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (and of its waited-for children), /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command: state is field 3; utime, stime, cutime, cstime are 14-17.
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLOCK_TICKS


class Pipelined:
    """One connection of the bare client."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> "Pipelined":
        reader, writer = await asyncio.open_connection(host, port)
        client = cls(reader, writer)
        await client._replies(1)  # the greeting
        writer.write(b"EHLO bench.invalid\r\n")
        await client._replies(1)
        return client

    async def _replies(self, count: int) -> list[int]:
        """The codes of the next `count` replies (a multi-line reply counts once)."""
        codes = []
        while len(codes) < count:
            line = await self._reader.readline()
            if not line:
                raise ConnectionError("the server closed the connection")
            if line[3:4] != b"-":
                codes.append(int(line[:3]))
        return codes

    async def send(self, envelope: bytes, stuffed: bytes) -> None:
        self._writer.write(envelope)
        codes = await self._replies(3)
        if codes != [250, 250, 354]:
            raise RuntimeError(f"refused: {codes}")
        self._writer.write(stuffed)
        (code,) = await self._replies(1)
        if code != 250:
            raise RuntimeError(f"refused: {code}")

    async def quit(self) -> None:
        self._writer.write(b"QUIT\r\n")
        await self._replies(1)
        self._writer.close()


def _shares(emails: int, connections: int) -> list[int]:
    return [emails // connections + (i < emails % connections) for i in range(connections)]


async def pipelined(host: str, port: int, content: bytes, emails: int, connections: int) -> float:
    """Seconds to send `emails` copies of `content` over `connections` bare pipelining
    connections."""
    sample = message_from_bytes(content)
    sender, recipient = parseaddr(sample["From"])[1], parseaddr(sample["To"])[1]
    envelope = f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode()
    stuffed = dot_stuffed(content)
    clients = await asyncio.gather(*(Pipelined.open(host, port) for _ in range(connections)))

    async def run(client: Pipelined, count: int) -> None:
        for _ in range(count):
            await client.send(envelope, stuffed)

    start = time.perf_counter()
    await asyncio.gather(
        *(run(c, n) for c, n in zip(clients, _shares(emails, connections), strict=True))
    )
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(client.quit() for client in clients))
    return elapsed


async def sendmail(host: str, port: int, content: bytes, emails: int, connections: int) -> float:
    """Seconds to send them with aiosmtplib's `sendmail` (no pipelining)."""
    sample = message_from_bytes(content)
    sender, recipient = sample["From"], sample["To"]
    clients = [
        aiosmtplib.SMTP(hostname=host, port=port, timeout=30, local_hostname="bench.invalid")
        for _ in range(connections)
    ]
    await asyncio.gather(*(client.connect() for client in clients))

    async def run(client: aiosmtplib.SMTP, count: int) -> None:
        for _ in range(count):
            await client.sendmail(sender, [recipient], content)

    start = time.perf_counter()
    await asyncio.gather(
        *(run(c, n) for c, n in zip(clients, _shares(emails, connections), strict=True))
    )
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(client.quit() for client in clients))
    return elapsed
