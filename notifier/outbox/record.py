"""Turning a batch of events into outbox rows, inside the caller's transaction.

Per batch: one query for the event ids already processed (an id already processed, or
twice in the batch, is skipped), the outbox rows, and the processed-event rows with each
event's count of recipients, written through the driver on the session's own connection
(COPY on PostgreSQL, executemany on SQLite): SQLAlchemy's per-row parameter processing
cost about 20 µs a row, more than everything else the consumer does.

The outbox rows: on PostgreSQL one INSERT … SELECT per batch makes them from the recipient
lookup itself (notifier.outbox.fan_out), so no recipient passes through Python, which
is what a payment run's cost follows. Elsewhere one matching query fetches the recipients
and a row is built for each. Both give the same rows (tests/test_lookup_agrees.py).
Values the same for a whole batch (timestamps, empty headers) go through the columns' own
bind processors once, so they are stored exactly as SQLAlchemy stores them elsewhere.
Emails are rendered at send time from the stored event and the row's grant level.

A user with daily delivery gets a held digest item instead of a pending notification:
the sender never claims it, and notifier.kinds.digest sends it in that user's digest.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.drivers import writing_driver
from notifier.outbox import fan_out
from notifier.outbox.events import Event
from notifier.outbox.message_ids import message_id
from notifier.outbox.models import OutboxKind, OutboxMessage, OutboxStatus, ProcessedEvent
from subscriptions.matching import DAILY, Target, match_rows
from subscriptions.matching import Row as LookupRow

# The tables themselves: a Core insert skips the ORM's per-row bookkeeping (hot path).
PROCESSED_TABLE = ProcessedEvent.metadata.tables[ProcessedEvent.__tablename__]
OUTBOX_TABLE = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]


@dataclass(frozen=True, slots=True)
class Recorded:
    events: int  # newly processed
    duplicates: int  # already processed, or twice in this batch
    messages: int  # outbox rows added


def target(event: Event) -> Target:
    org = event.organisation
    return Target(
        event_type=event.event_type,
        organisation=(org.kind.value, org.code) if org else None,
        compensation_type=event.compensation_type,
        announcement_types=tuple(event.announcement.compensation_types)
        if event.announcement
        else (),
    )


Values = tuple[Any, ...]  # a row's values, in the order of the driver's columns
Batch = list[tuple[Event, list[LookupRow]]]  # each new event with its recipients' lookup rows
PROCESSED_COLUMNS = ("event_id", "event_type", "payload", "recipients", "processed_at")
IMMEDIATE = (OutboxKind.NOTIFICATION.value, OutboxStatus.PENDING.value)
HELD = (OutboxKind.DIGEST_ITEM.value, OutboxStatus.HELD.value)
# PostgreSQL's statements making the outbox rows itself, by variant (notifier.outbox.fan_out)
FAN_OUT = {
    (scoped, several): fan_out.statement(
        (scoped, several),
        outbox=OUTBOX_TABLE.name,
        immediate=IMMEDIATE,
        held=HELD,
    )
    for scoped in (True, False)
    for several in (True, False)
}
# Left out of the insert: NULL for a notification, and without a default (a test holds it).
OUTBOX_NULL = ("ticket_id", "subject", "body_text", "body_html", "last_error", "sent_at")


def outbox_constants(now: datetime) -> dict[str, Any]:
    """The outbox columns the same for a whole batch (OUTBOX_NULL and the id aside):
    inserting by hand skips model defaults."""
    return {
        "channel": "email",
        "headers": {},
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


# The columns of the generic path's rows (_outbox_rows), in their order.
OUTBOX_COLUMNS = (
    *("message_id", "user_id", "recipient", "event_id", "kind", "status"),
    *outbox_constants(datetime.min),
    "level",
)


async def record_events(*, session: AsyncSession, events: list[Event], now: datetime) -> Recorded:
    """Add the processed-event rows and one outbox row per recipient; never commits."""
    unique = {event.id: event for event in reversed(events)}  # the first copy wins
    connection = await session.connection()
    done = await _processed(connection, list(unique))
    new = [event for event_id, event in unique.items() if event_id not in done]
    bound = {
        name: _bound(OUTBOX_TABLE, name, value, connection.dialect)
        for name, value in outbox_constants(now).items()
    }
    if connection.dialect.name == "postgresql":
        targets = [(event.id, target(event)) for event in new]
        shared = [bound[name] for name in fan_out.SHARED]
        counts = await fan_out.insert(connection, targets, FAN_OUT, *shared)
    else:
        counts = await _fetch_and_insert(session, new, tuple(bound.values()))
    when = _bound(PROCESSED_TABLE, "processed_at", now, connection.dialect)
    # Serialised once, by pydantic: both drivers take JSON columns as text.
    processed = [
        (e.id, e.event_type, e.model_dump_json(exclude_none=True), counts.get(e.id, 0), when)
        for e in new
    ]
    await _insert(connection, PROCESSED_TABLE, PROCESSED_COLUMNS, processed)
    return Recorded(len(new), len(events) - len(new), sum(counts.values()))


async def _fetch_and_insert(
    session: AsyncSession, events: list[Event], constants: Values
) -> dict[str, int]:
    """The generic path: each event's recipients fetched, their rows built and inserted."""
    found = await match_rows(session=session, targets=[target(event) for event in events])
    batch = list(zip(events, found, strict=True))
    connection = await session.connection()
    await _insert(connection, OUTBOX_TABLE, OUTBOX_COLUMNS, _outbox_rows(batch, constants))
    return {event.id: len(rows) for event, rows in batch}


# One bound array: the statement is the same for every batch (asyncpg prepares it once
# per connection), where SQLAlchemy rendered an IN of 500 values anew for each.
PROCESSED_SQL = text(
    f"SELECT event_id FROM {PROCESSED_TABLE.name} WHERE event_id = ANY(CAST(:ids AS VARCHAR[]))"
)


async def _processed(connection: AsyncConnection, event_ids: list[str]) -> set[str]:
    """Which of the ids were processed before. Through SQLAlchemy, not the driver: this
    is the transaction's first statement, and SQLAlchemy's adapter begins it."""
    if connection.dialect.name == "postgresql":
        found = await connection.execute(PROCESSED_SQL, {"ids": event_ids})
    else:
        column = col(ProcessedEvent.event_id)
        found = await connection.execute(select(column).where(column.in_(event_ids)))
    return set(found.scalars())


def _outbox_rows(batch: Batch, constants: Values) -> list[Values]:
    """The outbox rows, value by value."""
    held, immediate = HELD + constants, IMMEDIATE + constants
    return [
        (message_id(event.id, r.user_id), r.user_id, r.email, event.id)
        + (held if r.delivery == DAILY else immediate)
        + (r.level,)
        for event, rows in batch
        for r in rows
    ]


def _bound(table: Table, column: str, value: Any, dialect: Dialect) -> Any:
    """`value` as SQLAlchemy would send it to the driver for this column."""
    process = table.c[column].type.bind_processor(dialect)
    return process(value) if process is not None else value


async def _insert(
    connection: AsyncConnection, table: Table, columns: Sequence[str], rows: list[Values]
) -> None:
    if not rows:
        return
    driver = await writing_driver(connection)
    if connection.dialect.name == "postgresql":
        await driver.copy_records_to_table(table.name, records=rows, columns=list(columns))
    else:
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
        await driver.executemany(sql, rows)
