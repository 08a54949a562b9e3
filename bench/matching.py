"""One event's recipient lookup at 10k, 100k and 1M users: p50 / p99 of `match_rows()` for
one target (what the consumer calls for its batch), next to fetching the same recipients'
rows by primary key (the least a lookup that returns them can cost), both through the same
session on the same database."""

import statistics
import time

import asyncpg
from sqlalchemy import text

from bench import data
from bench.report import Result
from notifier import db
from notifier.outbox.events import Event
from notifier.outbox.record import target
from subscriptions.matching import Target, match_rows

BY_ID = text("SELECT id, email, name FROM users WHERE id = ANY(:ids)")


async def lookups(users: int, samples: int) -> Result:
    url = await data.dataset(users)
    targets = [target(Event.model_validate(body)) for body in data.events(samples + 20)]
    engine = db.create_engine(url)
    ours: list[float] = []
    bare: list[float] = []
    found: list[int] = []
    async with db.sessionmaker(engine)() as session:
        for number, tgt in enumerate(targets):
            start = time.perf_counter()
            [recipients] = await match_rows(session=session, targets=[tgt])
            middle = time.perf_counter()
            ids = [r.user_id for r in recipients]
            await session.execute(BY_ID, {"ids": ids})
            end = time.perf_counter()
            if number >= 20:  # the first lookups warm the caches and prepare statements
                ours.append(middle - start)
                bare.append(end - middle)
                found.append(len(recipients))
    await engine.dispose()
    p99 = _quantile(ours, 0.99) * 1000
    base_p99 = _quantile(bare, 0.99) * 1000
    details = {
        "users": users,
        "p50_ms": round(_quantile(ours, 0.5) * 1000, 2),
        "p99_ms": round(p99, 2),
        "baseline_p50_ms": round(_quantile(bare, 0.5) * 1000, 2),
        "recipients_per_event": round(statistics.mean(found), 1),
        "samples": samples,
    }
    target_text = "p99 < 5 ms at 1M" if users >= 1_000_000 else "sub-linear growth"
    return Result(
        f"matching {users:,} users", p99, base_p99, "ms p99", base_p99 / p99, target_text, details
    )


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def explain(users: int) -> str:
    """EXPLAIN ANALYZE of one event's lookup, for the report."""
    from subscriptions.matching import SCOPED_SQL, _key_data, keys

    tgt: Target = target(Event.model_validate(next(data.events(1))))
    arrays = [list(column) for column in zip(*_key_data(keys(tgt), True), strict=True)]
    connection = await asyncpg.connect(data.url(users))
    try:
        rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {SCOPED_SQL}", *arrays)
    finally:
        await connection.close()
    return "\n".join(row[0] for row in rows)
