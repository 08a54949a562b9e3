"""One event's recipient lookup at 10k, 100k and 1M users: p50 / p99 of `match_rows()` for
one target (what the consumer calls for its batch), next to two baselines on the same
database. The floor of the target: the same recipients read by asyncpg with a prepared
statement of scalar parameters straight from the covering index (recipient_keys_pkey, an
index-only range scan per lookup key), as ours reads them but with no unnest join and no
session. A second row keeps the earlier baseline: the recipients' user rows by primary
key through the SQLAlchemy session (heap rows; ours beat it)."""

import statistics
import time

import asyncpg
from sqlalchemy import text

from bench import data
from bench.report import Result
from notifier import db
from notifier.outbox.events import Event
from notifier.outbox.record import target
from subscriptions.matching import KEYS, Target, keys, match_rows
from subscriptions.models import NO_GRANT

BY_ID = text("SELECT id, email, name FROM users WHERE id = ANY(:ids)")
FROM_INDEX = f"""SELECT user_id, email, name, level, delivery FROM {KEYS.name}
WHERE org_kind = $1 AND org_code = $2 AND event_type = $3 AND compensation_type = $4"""


async def floor(statement: asyncpg.prepared_stmt.PreparedStatement, tgt: Target) -> int:
    """The target's recipients straight from the covering index; how many rows."""
    found = 0
    for org, event_type, ctype in keys(tgt):
        assert org is not None, "the data set's events all name their organisation"
        rows = await statement.fetch(*org, event_type, NO_GRANT if ctype is None else ctype)
        found += len(rows)
    return found


async def lookups(users: int, samples: int) -> list[Result]:
    url = await data.dataset(users)
    targets = [target(Event.model_validate(body)) for body in data.events(samples + 20)]
    engine = db.create_engine(url)
    timings: dict[str, list[float]] = {"ours": [], "floor": [], "by_id": []}
    found: list[int] = []
    connection = await asyncpg.connect(url)
    statement = await connection.prepare(FROM_INDEX)
    async with db.sessionmaker(engine)() as session:
        for number, tgt in enumerate(targets):
            start = time.perf_counter()
            [recipients] = await match_rows(session=session, targets=[tgt])
            middle = time.perf_counter()
            ids = [r.user_id for r in recipients]
            await session.execute(BY_ID, {"ids": ids})
            end = time.perf_counter()
            same = await floor(statement, tgt)
            last = time.perf_counter()
            if same != len(recipients):
                raise RuntimeError(f"the floor found {same} recipients, ours {len(recipients)}")
            if number >= 20:  # the first lookups warm the caches and prepare statements
                for name, spent in (("ours", middle - start), ("by_id", end - middle)):
                    timings[name].append(spent)
                timings["floor"].append(last - end)
                found.append(len(recipients))
    await connection.close()
    await engine.dispose()
    p99 = {name: _quantile(values, 0.99) * 1000 for name, values in timings.items()}
    details = {
        "users": users,
        "p50_ms": round(_quantile(timings["ours"], 0.5) * 1000, 2),
        "p99_ms": round(p99["ours"], 2),
        "recipients_per_event": round(statistics.mean(found), 1),
        "samples": samples,
    }
    target_text = "p99 < 5 ms at 1M" if users >= 1_000_000 else "sub-linear growth"
    results = []
    for name, label, what in (
        (
            "floor",
            f"matching {users:,} users",
            "asyncpg prepared, index-only from recipient_keys_pkey",
        ),
        ("by_id", f"matching {users:,} users vs by-id", "user rows by primary key, SQLAlchemy"),
    ):
        base = p99[name]
        baseline_p50 = round(_quantile(timings[name], 0.5) * 1000, 2)
        extra = {"baseline_p50_ms": baseline_p50, "baseline": what}
        text_ = target_text if name == "floor" else "(earlier baseline)"
        results.append(
            Result(label, p99["ours"], base, "ms p99", base / p99["ours"], text_, details | extra)
        )
    return results


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
