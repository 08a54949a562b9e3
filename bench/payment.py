"""A payment run end to end: `notifier serve` (a real subprocess, default settings) on
the data set, every event published at once, timed from the first publish to the last
email the sink accepted. Baseline, same run and sink: raw aiosmtplib sending as many
copies of a message the service produced over as many connections as the sender uses
by default (NOTIFIER_SMTP_CONNECTIONS), each connected before the clock starts — what
the relay alone allows.

The figure is a time: the ratio is baseline / ours (1.0 as fast as the relay); the
target, ours ≤ 1.3 × baseline, is a ratio ≥ 0.77."""

import time

from bench import broker, data, sender
from bench.report import Result, duration
from bench.serve import Serve, drained, private
from bench.sink import Sink
from notifier.settings import Settings

DRAIN_TIMEOUT = 1800


async def ours(url: str, sink: Sink, events: int) -> tuple[float, int]:
    """Seconds from the first publish to the last email; how many emails."""
    names = broker.topology()
    bodies = (("payment.disbursed", data.encoded(e)) for e in data.events(events, seed=31))
    async with Serve(url, names, sink.port):
        start = time.monotonic()
        await broker.publish(names, bodies)
        emails = await drained(url, events, DRAIN_TIMEOUT)
        await sink.until(emails)
    end = max(moment for moment, _ in sink.receipts())
    return end - start, emails


async def measure(users: int, events: int) -> Result:
    connections = Settings().smtp_connections
    with Sink(receipts=True) as sink:
        async with private(users) as url:
            elapsed, emails = await ours(url, sink, events)
        seen = sink.most_open
        sink.reset()
        baseline = emails / await sender.raw(sink, emails, connections)
    result = duration("payment run", elapsed, baseline, "s", "≤ 1.3× (ratio ≥ 0.77)")
    result.details = {
        "events": events,
        "users": users,
        "emails": emails,
        "emails_per_s": round(emails / elapsed),
        "times_the_relay": round(elapsed / baseline, 2),
        "sender_connections_seen": seen,
        "baseline": f"raw aiosmtplib, the service's own message, {connections} connections",
    }
    return result
