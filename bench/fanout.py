"""Fan-out: outbox rows per second written by `record_events` (match, then the rows)
for batches of the consumer's size, next to the server-side floor: the very same rows
written by `INSERT … SELECT` from a prepared table into a table of the outbox's shape (its
columns, indexes and constraints), one transaction per batch as ours commits, as ours
writes them in one server-side statement. COPY of the same rows over the wire, the
baseline of earlier runs, is a second row.

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


async def insert_select(url: str, batches: int) -> float:
    """The outbox rows just written, in `batches` parts (by id, as they were written),
    each inserted by a prepared INSERT … SELECT in a transaction of its own into an empty
    table of the outbox's shape."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP TABLE IF EXISTS bench_outbox_source, bench_outbox_floor")
        await connection.execute(
            "CREATE TABLE bench_outbox_source AS SELECT *, "
            f"ntile({batches}) OVER (ORDER BY id) AS bench_batch FROM outbox"
        )
        await connection.execute("CREATE INDEX ON bench_outbox_source (bench_batch)")
        await connection.execute("ANALYZE bench_outbox_source")
        await connection.execute("CREATE TABLE bench_outbox_floor (LIKE outbox INCLUDING ALL)")
        names = await connection.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'outbox'::regclass "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        )
        columns = ", ".join(f'"{row[0]}"' for row in names)
        statement = await connection.prepare(
            f"INSERT INTO bench_outbox_floor ({columns}) "
            f"SELECT {columns} FROM bench_outbox_source WHERE bench_batch = $1"
        )
        rows = await connection.fetchval("SELECT count(*) FROM bench_outbox_source")
        began = time.perf_counter()
        for part in range(1, batches + 1):
            async with connection.transaction():
                await statement.fetch(part)
        elapsed = time.perf_counter() - began
        await connection.execute("DROP TABLE bench_outbox_source, bench_outbox_floor")
        return int(rows) / elapsed
    finally:
        await connection.close()


async def measure(users: int, events: int) -> list[Result]:
    url = await data.dataset(users)
    batch = Settings().consumer_batch_size
    our_rate, rows = await ours(url, events, batch)
    floor = await insert_select(url, -(-events // batch))
    copied = await copy(url)
    common = {
        "users": users,
        "events": events,
        "outbox_rows": rows,
        "recipients_per_event": round(rows / events, 1),
    }
    result = rate("fan-out", our_rate, floor, "outbox rows/s", "≥ 0.8")
    result.details = common | {
        "baseline": f"INSERT … SELECT of the same rows, {-(-events // batch)} transactions"
    }
    earlier = rate("fan-out vs COPY", our_rate, copied, "outbox rows/s", "(earlier baseline)")
    earlier.details = common | {"baseline": "COPY of the same rows into LIKE outbox INCLUDING ALL"}
    return [result, earlier]
