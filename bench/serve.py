"""`notifier serve` as a real subprocess for the end-to-end benchmarks: default settings
but for the database, the SMTP sink and queue names of the benchmark's own (so it never
consumes another run's events), started in a directory of its own (its ./var), and read
from outside only: the broker for its consumer, the database for its progress, /proc for
its memory. Each run gets a database of its own (`private`)."""

import asyncio
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aio_pika
import asyncpg

from bench import broker, data
from bench.sink import HOST, free_port
from notifier import db
from notifier.workers.broker import Topology

ROOT = Path(__file__).resolve().parent.parent


class Serve:
    """`async with Serve(url, names, smtp_port) as serve:` returns once its consumer is
    subscribed to the queue; `serve.pid`, `serve.memory()`."""

    def __init__(self, url: str, names: Topology, smtp_port: int) -> None:
        self.url, self.names = url, names
        self.home = Path(tempfile.mkdtemp(prefix="bench-serve-"))
        # The environment of a deployment: only what the contract names, no leftovers.
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
        env |= {
            "PYTHONPATH": str(ROOT),
            "NOTIFIER_DATABASE_URL": url,
            "NOTIFIER_AMQP_URL": broker.AMQP_URL,
            "NOTIFIER_SMTP_URL": f"smtp://{HOST}:{smtp_port}",
            "NOTIFIER_EVENTS_EXCHANGE": names.exchange,
            "NOTIFIER_EVENTS_QUEUE": names.queue,
            "NOTIFIER_DEAD_LETTER_QUEUE": names.dead_letter_queue,
        }
        self._env = env
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def log(self) -> Path:
        return self.home / "serve.log"

    async def __aenter__(self) -> "Serve":
        command = [sys.executable, "-m", "notifier", "serve", "--port", str(free_port())]
        with self.log.open("wb") as log:
            # Popen returns at once; the wait for readiness below is asynchronous.
            self._process = subprocess.Popen(  # noqa: ASYNC220
                command, cwd=self.home, env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            await self._subscribed()
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()
        await broker.drop(self.names)

    async def _subscribed(self) -> None:
        """Wait until the queue has a consumer: from then on, a publish is consumed."""
        deadline = time.monotonic() + 90
        connection = await aio_pika.connect(broker.AMQP_URL)
        async with connection:
            while time.monotonic() < deadline:
                assert self._process is not None
                if self._process.poll() is not None:
                    raise RuntimeError(f"notifier serve ended: {self.log.read_text()[-2000:]}")
                channel = await connection.channel()
                try:  # passive: the service declares it, with its own arguments
                    queue = await channel.declare_queue(self.names.queue, passive=True)
                    if queue.declaration_result.consumer_count:
                        return
                except aio_pika.exceptions.ChannelClosed:
                    pass  # not declared yet: the passive declare closed the channel
                await asyncio.sleep(0.2)
        raise TimeoutError(f"notifier serve did not subscribe: {self.log.read_text()[-2000:]}")

    def memory(self) -> dict[str, int]:
        """VmHWM (peak) and VmRSS (now) of the process, in kB."""
        found = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                found[key] = int(value.split()[0])
        return found

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)


async def drained(url: str, events: int, within: float) -> int:
    """Wait (up to `within` seconds) until `events` events are processed and no email is
    left to send; the number of emails sent."""
    database = await asyncpg.connect(url)
    try:
        async with asyncio.timeout(within):
            return await _drained(database, events)
    finally:
        await database.close()


async def _drained(database: asyncpg.Connection, events: int) -> int:
    """Once a second, and cheaply: the run is timed at the sink, so looking more often would
    only take PostgreSQL CPU from the run it measures (counting the outbox four times a
    second did, on 2 cores). First the processed events (a small table; their outbox rows
    commit with them), then whether any email is still pending (the partial index)."""
    processed = "SELECT count(*) >= $1 FROM processed_events"
    while not await database.fetchval(processed, events):  # noqa: ASYNC110 - another process
        await asyncio.sleep(1)
    pending = "SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'pending')"
    while await database.fetchval(pending):  # noqa: ASYNC110 - another process's progress
        await asyncio.sleep(1)
    sent: int = await database.fetchval("SELECT count(*) FROM outbox WHERE status = 'sent'")
    return sent


# Who may hear of what, and the recipient lookup that every write keeps with it.
TABLES = ("users", "permission_grants", "subscriptions", "recipient_keys")


@asynccontextmanager
async def private(users: int) -> AsyncIterator[str]:
    """A database of this run's own holding a copy of the data set's users, grants and
    subscriptions, dropped afterwards: the data set's database is shared by every run on
    this machine, and one run's TRUNCATE or sender would take another's outbox."""
    source_url = await data.dataset(users)
    name = f"bench_serve_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{data.SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{data.SERVER}/{name}"
    try:
        engine = db.create_engine(url)
        await db.migrate(engine)
        await engine.dispose()
        await _copy(source_url, url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _copy(source_url: str, target_url: str) -> None:
    source, target = await asyncpg.connect(source_url), await asyncpg.connect(target_url)
    try:
        for table in TABLES:
            buffer = io.BytesIO()
            await source.copy_from_table(table, output=buffer, format="binary")
            buffer.seek(0)
            await target.copy_to_table(table, source=buffer, format="binary")
        await target.execute(f"VACUUM ANALYZE {', '.join(TABLES)}")
    finally:
        await source.close()
        await target.close()
