"""The benchmark suite: `python -m bench` (make bench), `python -m bench --smoke`.

Each benchmark measures our stage and its baseline in the same run on the same broker,
database and SMTP sink, prints one JSON line, and (in a full run) appends a row to
bench/RESULTS.md. The smoke run uses a few hundred events and a data set of its own, only
to prove every benchmark runs; its figures mean nothing and are not recorded.
"""

import argparse
import asyncio
import faulthandler
import sys
from collections.abc import Callable
from dataclasses import dataclass

from bench import consumer, fanout, matching, routing, sender
from bench.report import Result, environment, publish


@dataclass(frozen=True, slots=True)
class Sizes:
    users: int  # the data set of the consumer and the API
    matching: tuple[int, ...]
    samples: int  # lookups per matching size
    events: int  # consumer
    fanout_users: int
    fanout_events: int
    emails: int
    mail_users: int
    decisions: int
    api_seconds: float


FULL = Sizes(100_000, (10_000, 100_000), 1000, 50_000, 100_000, 5000, 20_000, 10_000, 100_000, 20)
SMOKE = Sizes(3000, (3000,), 50, 1500, 3000, 100, 300, 3000, 2000, 2)
MILLION = 1_000_000


def benchmarks(sizes: Sizes) -> dict[str, Callable[[], Result | list[Result]]]:
    def lookups() -> list[Result]:
        return [asyncio.run(matching.lookups(n, sizes.samples)) for n in sizes.matching]

    return {
        "matching": lookups,
        "consumer": lambda: asyncio.run(consumer.measure(sizes.users, sizes.events)),
        "fanout": lambda: asyncio.run(fanout.measure(sizes.fanout_users, sizes.fanout_events)),
        "sender": lambda: asyncio.run(sender.measure(sizes.mail_users, sizes.emails)),
        "routing": lambda: routing.decisions(sizes.decisions),
        "api": lambda: routing.api(_url(sizes.users), 300, sizes.api_seconds),
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
