"""The benchmark suite: `python -m bench` (make bench), `python -m bench --smoke`.

Each benchmark measures our stage and its baseline in the same run on the same broker,
database and SMTP sink, prints one JSON line, and (in a full run) appends a row to
bench/RESULTS.md. Both sides run on the event loop and collector settings of the service's
own processes (notifier.runtime: uvloop, the start-up heap frozen). The smoke run uses a
few hundred events and a data set of its own, only to prove every benchmark runs; its
figures mean nothing and are not recorded.
"""

import argparse
import asyncio
import faulthandler
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from bench import consumer, fanout, latency, matching, memory, payment, relay, routing, sender
from bench.report import SMOKE_NOTICE, Result, environment, publish
from notifier import runtime


@dataclass(frozen=True, slots=True)
class Sizes:
    users: int  # the data set of the consumer, the sender, the payment run and the API
    matching: tuple[int, ...]
    samples: int  # lookups per matching size
    events: int  # consumer
    fanout_users: int
    fanout_events: int
    emails: int
    decisions: int
    api_seconds: float
    payment_events: int  # published at once into `notifier serve`, on the `users` data set
    latency_users: int
    latency_rate: float  # events/s
    latency_seconds: float
    memory_users: int
    memory_events: tuple[int, int]  # RSS read after the first, and after the second
    relay_emails: int  # the sender through a private Postfix (bench.relay)


FULL = Sizes(
    *(100_000, (10_000, 100_000), 1000, 50_000, 100_000, 5000, 100_000, 100_000, 20),
    # The 50,000 events at once. About 17 recipients a payment with 100,000 users:
    # about 850,000 emails, some 7 minutes for each side at the relay's 2,000 a second.
    payment_events=50_000,
    # ≈ 2 recipients per event with 10,000 users: 200 events/s are ≈ 420 emails/s.
    latency_users=10_000,
    latency_rate=200,
    latency_seconds=60,
    memory_users=10_000,
    memory_events=(10_000, 50_000),
    # What a 2-core machine's Postfix takes in about 10 s a side (the issue: 1,000-1,300/s).
    relay_emails=10_000,
)
SMOKE = Sizes(
    *(3000, (3000,), 50, 1500, 3000, 100, 300, 2000, 2),
    payment_events=300,
    latency_users=3000,
    latency_rate=50,
    latency_seconds=3,
    memory_users=3000,
    memory_events=(200, 600),
    relay_emails=300,
)
MILLION = 1_000_000
T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`main` as `notifier consume`, `send` and `serve` run: on the service's event loop,
    with its collector settings (notifier.runtime), for our side and the baseline alike."""
    runtime.settle()
    with asyncio.Runner(loop_factory=runtime.loop_factory()) as runner:
        return runner.run(main)


def benchmarks(sizes: Sizes) -> dict[str, Callable[[], Result | list[Result]]]:
    def lookups() -> list[Result]:
        return [row for n in sizes.matching for row in run(matching.lookups(n, sizes.samples))]

    return {
        "matching": lookups,
        "consumer": lambda: run(consumer.measure(sizes.users, sizes.events)),
        "fanout": lambda: run(fanout.measure(sizes.fanout_users, sizes.fanout_events)),
        "sender": lambda: run(sender.measure(sizes.users, sizes.emails)),
        "relay": lambda: run(relay.measure(sizes.users, sizes.relay_emails)),
        "routing": lambda: routing.decisions(sizes.decisions),
        "api": lambda: routing.api(_url(sizes.users), 300, sizes.api_seconds),
        "payment": lambda: run(payment.measure(sizes.users, sizes.payment_events)),
        "latency": lambda: run(
            latency.measure(sizes.latency_users, sizes.latency_rate, sizes.latency_seconds)
        ),
        "memory": lambda: run(memory.measure(sizes.memory_users, *sizes.memory_events)),
    }


def _url(users: int) -> str:
    from bench import data

    asyncio.run(data.dataset(users))
    return data.url(users)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few hundred events, < 60 s")
    parser.add_argument(
        "--only", default="", help="comma-separated: " + ", ".join(benchmarks(SMOKE))
    )
    parser.add_argument(
        "--million", action="store_true", help="also 1,000,000 users for matching and fan-out"
    )
    parser.add_argument("--emails", type=int, default=None, help="sender: emails to send")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else FULL
    if args.million:
        sizes = Sizes(
            **{**_fields(sizes), "matching": (*sizes.matching, MILLION), "fanout_users": MILLION}
        )
    if args.emails:
        sizes = Sizes(**{**_fields(sizes), "emails": args.emails})
    chosen = benchmarks(sizes)
    wanted = [name for name in args.only.split(",") if name] or list(chosen)
    environment()  # the versions once, before any benchmark loads the machine
    if args.smoke:
        print(SMOKE_NOTICE, file=sys.stderr, flush=True)
    for name in wanted:
        if args.smoke:  # a stuck stage ends the run with every thread's stack, not a hang
            faulthandler.dump_traceback_later(120, exit=True)
        print(f"bench: {name}", file=sys.stderr, flush=True)
        found = chosen[name]()
        faulthandler.cancel_dump_traceback_later()
        for result in found if isinstance(found, list) else [found]:
            publish(result, smoke=args.smoke)


def _fields(sizes: Sizes) -> dict[str, object]:
    return {name: getattr(sizes, name) for name in Sizes.__dataclass_fields__}


if __name__ == "__main__":
    main()
