"""Memory of `notifier serve` (a real subprocess, default settings) through a payment run:
its peak RSS (VmHWM) once the first `first` events are processed and their emails sent,
and again after `total`. The baseline is the first reading: what the process needs once
warm; growth beyond it is what more events cost, and must not go on growing."""

from itertools import islice

from bench import broker, data
from bench.report import Result
from bench.serve import Serve, drained, private
from bench.sink import Sink

DRAIN_TIMEOUT = 1800


async def readings(url: str, first: int, total: int) -> tuple[dict[str, int], dict[str, int]]:
    """/proc readings (kB) after `first` and after `total` events, and the emails sent."""
    names = broker.topology()
    bodies = (("payment.disbursed", data.encoded(e)) for e in data.events(total, seed=51))
    with Sink() as sink:
        async with Serve(url, names, sink.port) as serve:
            await broker.publish(names, islice(bodies, first))
            sent = await drained(url, first, DRAIN_TIMEOUT)
            early = serve.memory() | {"emails": sent}
            await broker.publish(names, bodies)
            sent = await drained(url, total, DRAIN_TIMEOUT)
            late = serve.memory() | {"emails": sent}
    return early, late


async def measure(users: int, first: int, total: int) -> Result:
    async with private(users) as url:
        early, late = await readings(url, first, total)
    ours, baseline = late["VmHWM"] / 1024, early["VmHWM"] / 1024
    growth = 100 * (ours / baseline - 1)
    # Lower is better, as for a time: 1.0 is no growth at all.
    result = Result(
        f"memory {total:,} events", ours, baseline, "MB peak RSS", baseline / ours, "growth < 10 %"
    )
    result.details = {
        "growth_pct": round(growth, 1),
        "users": users,
        "emails": late["emails"],
        "rss_mb": f"{early['VmRSS'] / 1024:.0f} → {late['VmRSS'] / 1024:.0f}",
        "baseline": f"peak RSS of the same process after {first:,} events",
    }
    return result
