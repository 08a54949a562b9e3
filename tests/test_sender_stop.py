"""`notifier send` stopped by SIGTERM in the middle of a delivery, as `docker stop` stops
it: the process ends with 0 within seconds, and the rows it had claimed are due again at
once for the next sender, not after their 20 s lease."""

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
from notifier.settings import Settings
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


@pytest.fixture
async def stalling() -> AsyncIterator[tuple[Stalling, int]]:
    server = Stalling()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    async with listening:
        yield server, listening.sockets[0].getsockname()[1]


async def test_sigterm_mid_delivery_ends_with_0_and_gives_the_rows_back_at_once(
    queued: AsyncEngine, stalling: tuple[Stalling, int], settings: Settings
) -> None:
    server, port = stalling
    names = {key: value for key, value in os.environ.items() if not key.startswith("NOTIFIER_")}
    env = names | {
        "NOTIFIER_DATABASE_URL": queued.url.render_as_string(hide_password=False),
        "NOTIFIER_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "NOTIFIER_SMTP_TIMEOUT": "60",  # the stall outlasts the test: only the stop ends it
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
        assert {row.attempts for row in await outbox(queued)} == {1}  # claimed, leased
        process.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
        assert time.monotonic() - stopped < 5
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stdout is not None
    said = (await process.stdout.read()).decode()
    assert "Traceback" not in said, said
    assert "2 claimed row(s) given back" in said
    rows = await outbox(queued)
    assert [row.status for row in rows] == ["pending", "pending"]
    assert all(row.next_attempt_at <= utcnow() for row in rows)  # not after the lease
