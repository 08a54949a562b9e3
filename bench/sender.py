"""The sender (claim → render → SMTP → record) next to raw clients sending prebuilt
messages over the same number of connections, both into the same SMTP sink running in a
process of its own (bench.sink): a bare client that pipelines as ours does (the baseline
of the target) and aiosmtplib's `sendmail`, which cannot (a second row). CPU seconds per
1,000 emails of the sending process, from /proc, beside each.

The sender is built by the composition root with its default settings (only the SMTP URL
set), from pending outbox rows that `record_events` wrote for real events and recipients
(the 100,000-user data set: a payment event reaches about 20 of them), in a database of
this run's own,
and runs until the sink has every message. The sink counts the most connections it saw
open at once: the baseline then sends copies of a message the sender produced (its size
and parts exactly) over that many connections, each connected before the clock starts."""

import asyncio
import time
from itertools import islice

from bench import data, smtp_raw
from bench.report import Result, rate
from bench.serve import private
from bench.sink import HOST, Sink
from bench.smtp_raw import cpu_seconds
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


Measured = tuple[float, float]  # emails/s, CPU seconds per 1,000 emails


async def ours(url: str, sink: Sink, emails: int) -> Measured:
    settings = Settings(database_url=url, smtp_url=f"smtp://{HOST}:{sink.port}")
    services = build_services(settings)
    sender = compose.build_sender(services)
    task = asyncio.create_task(sender.run())
    try:
        async with asyncio.timeout(1800):
            await sink.until(1)
            start, cpu = time.perf_counter(), cpu_seconds()
            end = await sink.until(emails)
            used = cpu_seconds() - cpu
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await services.engine.dispose()
    return (emails - 1) / (end - start), used / (emails - 1) * 1000


async def raw(sink: Sink, emails: int, connections: int, *, pipelining: bool = True) -> Measured:
    """A baseline into the sink: emails/s and CPU per 1,000."""
    client = smtp_raw.pipelined if pipelining else smtp_raw.sendmail
    content = sink.sample.read_bytes()
    cpu = cpu_seconds()
    elapsed = await client(HOST, sink.port, content, emails, connections)
    return emails / elapsed, (cpu_seconds() - cpu) / emails * 1000


async def measure(users: int, emails: int) -> list[Result]:
    async with private(users) as url:
        emails = await queue(url, emails)
        with Sink() as sink:
            our_rate, our_cpu = await ours(url, sink, emails)
            connections = max(1, sink.most_open)
            sink.reset()
            piped, piped_cpu = await raw(sink, emails, connections)
            sink.reset()
            plain, plain_cpu = await raw(sink, emails, connections, pipelining=False)
    common = {"emails": emails, "users": users, "connections": connections}
    cpu = {"cpu_s_per_1000_ours": round(our_cpu, 3)}
    pipelined = rate("sender", our_rate, piped, "emails/s", "≥ 0.9")
    pipelined.details = (
        common
        | cpu
        | {
            "cpu_s_per_1000_baseline": round(piped_cpu, 3),
            "baseline": f"bare pipelining client, its own message, {connections} connection(s)",
        }
    )
    unpipelined = rate("sender vs sendmail", our_rate, plain, "emails/s", "(earlier baseline)")
    unpipelined.details = (
        common
        | cpu
        | {
            "cpu_s_per_1000_baseline": round(plain_cpu, 3),
            "baseline": f"aiosmtplib sendmail (no pipelining), {connections} connection(s)",
        }
    )
    return [pipelined, unpipelined]
