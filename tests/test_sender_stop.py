"""`notifier send` stopped by SIGTERM in the middle of a delivery, as `docker stop` stops
it: it finishes the batch in hand (each message sent once, recorded sent) and ends with
0; where the mail server does not answer within the grace, the rows it had claimed are
due again at once for the next sender, not after their 20 s lease."""

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.sqltypes import utcnow
from notifier import runtime
from notifier.settings import Settings
from notifier.workers.held import GIVE_BACK_WAIT
from tests.pipeline_helpers import outbox
from tests.test_sender import queued

__all__ = ["queued"]  # the fixture

ROOT = Path(__file__).resolve().parent.parent


class Stalling:
    """An SMTP server that greets, answers EHLO offering PIPELINING, and then answers
    nothing: the sender's batch stays in delivery until the process is stopped."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()  # a transaction was sent

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 stalling.invalid ESMTP\r\n")
        while line := await reader.readline():
            if line[:4].upper() in (b"EHLO", b"HELO"):
                writer.write(b"250-stalling.invalid\r\n250 PIPELINING\r\n")
            else:
                self.reached.set()
        writer.close()


class Slow(Stalling):
    """An SMTP server that answers each transaction a second late, and keeps what it got."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 slow.invalid ESMTP\r\n")
        while line := await reader.readline():
            command = line[:4].upper()
            if command in (b"EHLO", b"HELO"):
                writer.write(b"250-slow.invalid\r\n250 PIPELINING\r\n")
            elif command == b"MAIL":
                self.reached.set()
                await asyncio.sleep(1.0)
                writer.write(b"250 ok\r\n")
            elif command == b"DATA":
                writer.write(b"354 go on\r\n")
                content = b""
                while (part := await reader.readline()) not in (b".\r\n", b""):
                    content += part
                self.messages.append(content)
                writer.write(b"250 queued\r\n")
            elif command == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
        writer.close()


async def served(server: Stalling) -> AsyncIterator[tuple[Stalling, int]]:
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    async with listening:
        yield server, listening.sockets[0].getsockname()[1]


@pytest.fixture
async def stalling() -> AsyncIterator[tuple[Stalling, int]]:
    async for served_ in served(Stalling()):
        yield served_


@pytest.fixture
async def slow() -> AsyncIterator[tuple[Stalling, int]]:
    async for served_ in served(Slow()):
        yield served_


async def stopped_mid_delivery(
    engine: AsyncEngine, port: int, server: Stalling, settings: Settings
) -> tuple[float, str]:
    """`notifier send` SIGTERMed once the server has a transaction: how long it took to
    end (with 0), and what it logged."""
    names = {key: value for key, value in os.environ.items() if not key.startswith("NOTIFIER_")}
    env = names | {
        "NOTIFIER_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "NOTIFIER_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "NOTIFIER_SMTP_TIMEOUT": "60",  # a stall outlasts the test: only the stop ends it
        "NOTIFIER_AMQP_URL": settings.amqp_url,
        "NOTIFIER_OUTCOMES_EXCHANGE": settings.outcomes_exchange,
        "NOTIFIER_SECRET_KEY": "test-secret-key-of-at-least-32-bytes",
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "notifier", "send"),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,  # its log
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await asyncio.wait_for(server.reached.wait(), timeout=30)
        assert {row.attempts for row in await outbox(engine)} == {1}  # claimed, leased
        process.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert await asyncio.wait_for(process.wait(), timeout=15) == 0
        took = time.monotonic() - stopped
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stdout is not None
    said = (await process.stdout.read()).decode()
    assert "Traceback" not in said, said
    return took, said


async def test_sigterm_mid_delivery_finishes_the_batch_and_ends_with_0(
    queued: AsyncEngine, slow: tuple[Slow, int], settings: Settings
) -> None:
    server, port = slow
    took, said = await stopped_mid_delivery(queued, port, server, settings)
    assert took < runtime.GRACE
    assert "given back" not in said
    rows = await outbox(queued)
    assert [row.status for row in rows] == ["sent", "sent"]
    ids = [message.split(b"Message-ID: ")[1].split(b"\r\n")[0] for message in server.messages]
    assert sorted(ids) == sorted(row.message_id.encode() for row in rows)  # each once


async def test_sigterm_when_the_server_does_not_answer_gives_the_rows_back_at_once(
    queued: AsyncEngine, stalling: tuple[Stalling, int], settings: Settings
) -> None:
    server, port = stalling
    took, said = await stopped_mid_delivery(queued, port, server, settings)
    assert runtime.GRACE <= took < runtime.GRACE + GIVE_BACK_WAIT + 2
    assert "2 claimed row(s) given back" in said
    rows = await outbox(queued)
    assert [row.status for row in rows] == ["pending", "pending"]
    assert all(row.next_attempt_at <= utcnow() for row in rows)  # not after the lease
