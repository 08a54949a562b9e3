"""The sender through a real relay: a private Postfix (tests.postfix_relay: strict, offering
PIPELINING, its own folders on a free loopback port, never the machine's own) that
discards whatever it accepts, so that only its SMTP side is measured. Ours against the
bare pipelining client and aiosmtplib's `sendmail` through the same Postfix, the same
message (the sender's own, caught by the bench sink first), as many connections as the
sender opens by default. CPU seconds per 1,000 emails of this process beside each; on a
2-core machine whatever the sender and its database take, Postfix lacks."""

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from bench import sender, smtp_raw
from bench.report import Result, rate
from bench.serve import private
from bench.sink import HOST, Sink
from bench.smtp_raw import cpu_seconds
from notifier import compose
from notifier.compose import build_services
from notifier.settings import Settings
from tests import postfix_relay

DISCARD = ["virtual_transport=discard:", "default_transport=discard:", "relay_transport=discard:"]
PENDING = "SELECT count(*) FROM outbox WHERE status = 'pending'"


@contextmanager
def discarding() -> Iterator[postfix_relay.Relay]:
    binary = postfix_relay.postfix_binary()
    if binary is None or os.geteuid() != 0:
        raise RuntimeError("the relay benchmark needs root and /usr/sbin/postfix")
    root = Path(tempfile.mkdtemp(prefix="bench-postfix-"))
    try:
        relay = postfix_relay.start(binary, root)
        postconf = str(Path(binary).with_name("postconf"))
        subprocess.run([postconf, "-c", str(root / "etc"), "-e", *DISCARD], check=True)
        postfix_relay.postfix(binary, root, "reload")
        yield relay
    finally:
        try:
            postfix_relay.stop(binary, root)
        finally:
            shutil.rmtree(root, ignore_errors=True)


async def run_sender(url: str, smtp_url: str, until: "asyncio.Future[None] | None" = None) -> float:
    """The composition root's sender on `url` until no row is pending (or `until`); the
    emails a second from the first row seen sent to the last (start-up counts for
    nothing, as in bench.sender)."""
    services = build_services(Settings(database_url=url, smtp_url=smtp_url))
    task = asyncio.create_task(compose.build_sender(services).run())
    database = await asyncpg.connect(url)
    try:
        async with asyncio.timeout(1800):
            if until is not None:
                await until
                return 0.0
            return await _drain_rate(database)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await database.close()
        await services.engine.dispose()


async def _drain_rate(database: asyncpg.Connection) -> float:
    total = pending = int(await database.fetchval(PENDING))
    start, left = 0.0, total
    while pending:
        await asyncio.sleep(0.05)  # the database is polled: nothing signals
        pending = int(await database.fetchval(PENDING))
        if not start and pending < total:
            start, left = time.perf_counter(), pending
    if not start or not left:
        raise RuntimeError("too few emails to time: raise the count")
    return left / (time.perf_counter() - start)


async def sample_and_rest(url: str) -> tuple[bytes, int]:
    """One of the sender's own messages, caught by the sink; how many rows still wait
    (the stopped sender gives back the rows it had claimed: none waits for a lease)."""
    with Sink() as sink:
        first = asyncio.ensure_future(sink.until(1))
        await run_sender(url, f"smtp://{HOST}:{sink.port}", until=first)
        content = sink.sample.read_bytes()
    database = await asyncpg.connect(url)
    try:
        return content, int(await database.fetchval(PENDING))
    finally:
        await database.close()


async def measure(users: int, emails: int) -> list[Result]:
    connections = Settings().smtp_connections
    async with private(users) as url:
        await sender.queue(url, emails)
        content, emails = await sample_and_rest(url)
        with discarding() as relay:
            cpu = cpu_seconds()
            our_rate = await run_sender(url, f"smtp://127.0.0.1:{relay.port}")
            our_cpu = (cpu_seconds() - cpu) / emails * 1000
            rows = []
            for client, name, target in (
                (smtp_raw.pipelined, "sender via Postfix", "≥ 0.9"),
                (smtp_raw.sendmail, "sender via Postfix vs sendmail", "(as the issue measured)"),
            ):
                cpu = cpu_seconds()
                elapsed = await client("127.0.0.1", relay.port, content, emails, connections)
                result = rate(name, our_rate, emails / elapsed, "emails/s", target)
                result.details = {
                    "emails": emails,
                    "users": users,
                    "connections": connections,
                    "cpu_s_per_1000_ours": round(our_cpu, 3),
                    "cpu_s_per_1000_baseline": round((cpu_seconds() - cpu) / emails * 1000, 3),
                    "baseline": f"{client.__name__}, the sender's own message, private Postfix "
                    "discarding",
                }
                rows.append(result)
    return rows
