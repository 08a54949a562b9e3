"""A payment run end to end: `notifier serve` (a real subprocess, default settings) on
the data set, every event published at once, timed from the first publish to the last
email the sink accepted. Baseline, same run and sink: a bare pipelining client
(bench.smtp_raw) sending as many copies of a message the service produced over as many
connections as the sender uses by default (NOTIFIER_SMTP_CONNECTIONS), each connected
before the clock starts — what the relay alone allows; aiosmtplib's `sendmail` (no
pipelining) as a second row. The CPU seconds per 1,000 emails of `serve` (consumer and
sender in one process, /proc) beside them.

The figure is a time: the ratio is baseline / ours (1.0 as fast as the relay); the
target, ours ≤ 1.15 × baseline, is a ratio ≥ 0.87."""

import time

from bench import broker, data, sender
from bench.report import Result, duration
from bench.serve import Serve, drained, private
from bench.sink import Sink
from bench.smtp_raw import cpu_seconds
from notifier.settings import Settings

DRAIN_TIMEOUT = 1800


async def ours(url: str, sink: Sink, events: int) -> tuple[float, int, float]:
    """Seconds from the first publish to the last email; how many emails; the CPU seconds
    `serve` used meanwhile."""
    names = broker.topology()
    bodies = (("payment.disbursed", data.encoded(e)) for e in data.events(events, seed=31))
    async with Serve(url, names, sink.port) as serve:
        cpu = cpu_seconds(serve.pid)
        start = time.monotonic()
        await broker.publish(names, bodies)
        emails = await drained(url, events, DRAIN_TIMEOUT)
        await sink.until(emails)
        used = cpu_seconds(serve.pid) - cpu
    end = max(moment for moment, _ in sink.receipts())
    return end - start, emails, used


async def measure(users: int, events: int) -> list[Result]:
    connections = Settings().smtp_connections
    with Sink(receipts=True) as sink:
        async with private(users) as url:
            elapsed, emails, cpu = await ours(url, sink, events)
        seen = sink.most_open
        results = []
        for pipelining, name, target in (
            (True, "payment run", "≤ 1.15× (ratio ≥ 0.87)"),
            (False, "payment run vs sendmail", "(earlier baseline)"),
        ):
            sink.reset()
            per_s, baseline_cpu = await sender.raw(sink, emails, connections, pipelining=pipelining)
            result = duration(name, elapsed, emails / per_s, "s", target)
            result.details = {
                "events": events,
                "users": users,
                "emails": emails,
                "emails_per_s": round(emails / elapsed),
                "times_the_relay": round(elapsed * per_s / emails, 2),
                "sender_connections_seen": seen,
                "cpu_s_per_1000_serve": round(cpu / emails * 1000, 3),
                "cpu_s_per_1000_baseline": round(baseline_cpu, 3),
                "baseline": ("bare pipelining client" if pipelining else "aiosmtplib sendmail")
                + f", the service's own message, {connections} connections",
            }
            results.append(result)
    return results
