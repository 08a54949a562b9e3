"""Fan-out: outbox rows per second written by `record_events` (match, then the rows)
for batches of the consumer's size, next to PostgreSQL's COPY of the very same rows into
a table of the outbox's shape (its columns, indexes and constraints) in the same database.

With 1,000,000 users an event has about 150 recipients; a smaller data set fans out less
and says so in its row (recipients_per_event)."""

import time

import asyncpg

from bench import data
from bench.report import Result, rate
from domain.sqltypes import utcnow
from notifier import db
from notifier.outbox.events import Event
from notifier.outbox.record import record_events
from notifier.settings import Settings


async def ours(url: str, events: int, batch: int) -> tuple[float, int]:
    bodies = [Event.model_validate(body) for body in data.events(events, seed=7)]
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    rows, elapsed = 0, 0.0
    for start in range(0, events, batch):
        async with sessions() as session:
            began = time.perf_counter()
            recorded = await record_events(
                session=session, events=bodies[start : start + batch], now=utcnow()
            )
            await session.commit()
            elapsed += time.perf_counter() - began
            rows += recorded.messages
    await engine.dispose()
    return rows / elapsed, rows


async def copy(url: str) -> float:
    """COPY the outbox rows just written into an empty table of the outbox's shape."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP TABLE IF EXISTS bench_outbox_copy")
        await connection.execute("CREATE TABLE bench_outbox_copy (LIKE outbox INCLUDING ALL)")
        records = await connection.fetch("SELECT * FROM outbox")
        columns = list(records[0].keys())
        began = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table(
                "bench_outbox_copy", records=[tuple(r) for r in records], columns=columns
            )
        elapsed = time.perf_counter() - began
        await connection.execute("DROP TABLE bench_outbox_copy")
        return len(records) / elapsed
    finally:
        await connection.close()


async def measure(users: int, events: int) -> Result:
    url = await data.dataset(users)
    batch = Settings().consumer_batch_size
    our_rate, rows = await ours(url, events, batch)
    baseline = await copy(url)
    result = rate("fan-out", our_rate, baseline, "outbox rows/s", "≥ 0.5")
    result.details = {
        "users": users,
        "events": events,
        "outbox_rows": rows,
        "recipients_per_event": round(rows / events, 1),
        "baseline": "COPY of the same rows into LIKE outbox INCLUDING ALL",
    }
    return result
