"""The sender (claim → render → SMTP → record) next to raw aiosmtplib sending prebuilt
messages over the same number of connections, both into the same SMTP sink running in a
process of its own (bench.sink).

The sender is built by the composition root with its default settings (only the SMTP URL
set), from pending outbox rows that `record_events` wrote for real events and recipients
(the 100,000-user data set: a payment event reaches about 20 of them), in a database of
this run's own,
and runs until the sink has every message. The sink counts the most connections it saw
open at once: the baseline then sends copies of a message the sender produced (its size
and parts exactly) over that many connections, each connected before the clock starts."""

import asyncio
import time
from email import message_from_bytes
from itertools import islice

import aiosmtplib

from bench import data
from bench.report import Result, rate
from bench.serve import private
from bench.sink import HOST, Sink
from domain.sqltypes import utcnow
from notifier import compose, db
from notifier.compose import build_services
from notifier.outbox.events import Event
from notifier.outbox.record import record_events
from notifier.settings import Settings


async def queue(url: str, emails: int) -> int:
    """Record events until at least `emails` outbox rows are pending; how many there are."""
    engine = db.create_engine(url)
    rows = 0
    # A small data set gives less than one recipient per event: up to 100 events an email.
    bodies = iter(data.events(100 * emails, seed=11))
    async with db.sessionmaker(engine)() as session:
        while rows < emails:
            batch = [Event.model_validate(body) for body in islice(bodies, 20)]
            if not batch:
                raise RuntimeError("the data set gives too few recipients for this many emails")
            rows += (await record_events(session=session, events=batch, now=utcnow())).messages
        await session.commit()
    await engine.dispose()
    return rows


async def ours(url: str, sink: Sink, emails: int) -> float:
    settings = Settings(database_url=url, smtp_url=f"smtp://{HOST}:{sink.port}")
    services = build_services(settings)
    sender = compose.build_sender(services)
    task = asyncio.create_task(sender.run())
    try:
        async with asyncio.timeout(1800):
            await sink.until(1)
            start = time.perf_counter()
            end = await sink.until(emails)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await services.engine.dispose()
    return (emails - 1) / (end - start)


async def raw(sink: Sink, emails: int, connections: int) -> float:
    content = sink.sample.read_bytes()
    sample = message_from_bytes(content)
    sender, recipient = sample["From"], sample["To"]
    clients = [
        aiosmtplib.SMTP(hostname=HOST, port=sink.port, timeout=30) for _ in range(connections)
    ]
    await asyncio.gather(*(client.connect() for client in clients))

    async def send(client: aiosmtplib.SMTP, count: int) -> None:
        for _ in range(count):
            await client.sendmail(sender, [recipient], content)

    shares = [emails // connections + (i < emails % connections) for i in range(connections)]
    start = time.perf_counter()
    await asyncio.gather(*(send(c, n) for c, n in zip(clients, shares, strict=True)))
    elapsed = time.perf_counter() - start
    await asyncio.gather(*(client.quit() for client in clients))
    return emails / elapsed


async def measure(users: int, emails: int) -> Result:
    async with private(users) as url:
        emails = await queue(url, emails)
        with Sink() as sink:
            our_rate = await ours(url, sink, emails)
            connections = max(1, sink.most_open)
            sink.reset()
            baseline = await raw(sink, emails, connections)
    result = rate("sender", our_rate, baseline, "emails/s", "≥ 0.8")
    result.details = {
        "emails": emails,
        "users": users,
        "connections": connections,
        "baseline": f"raw aiosmtplib, the sender's own message, {connections} connection(s)",
    }
    return result
