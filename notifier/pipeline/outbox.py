"""Turning a batch of events into outbox rows, inside the caller's transaction.

Per batch: one query for the event ids already processed (an id already processed, or
twice in the batch, is skipped), one matching query, and the rows inserted through the
driver on the session's own connection: COPY on PostgreSQL (asyncpg), executemany on
SQLite. This is the consumer's hot path during a payment run: SQLAlchemy's per-row
parameter processing cost about 20 µs a row, more than everything else the consumer does.
Values the same for a whole batch (timestamps, empty headers) go through the columns' own
bind processors once, so they are stored exactly as SQLAlchemy stores them elsewhere.
Emails are rendered at send time from the stored event and the row's grant level.

A user with daily delivery gets a held digest item instead of a pending notification:
the sender never claims it, and notifier.kinds.digest sends it in that user's digest.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, Table
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.pipeline.events import Event
from notifier.pipeline.models import OutboxKind, OutboxMessage, OutboxStatus, ProcessedEvent
from subscriptions.matching import DAILY, DELIVERY, EMAIL, LEVEL, USER_ID, Target, match_rows
from subscriptions.matching import Row as Found

# The tables themselves: a Core insert skips the ORM's per-row bookkeeping (hot path).
PROCESSED_TABLE = ProcessedEvent.metadata.tables[ProcessedEvent.__tablename__]
OUTBOX_TABLE = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]
MESSAGE_ID_DOMAIN = "statlig-ersattning.invalid"


@dataclass(frozen=True, slots=True)
class Recorded:
    events: int  # newly processed
    duplicates: int  # already processed, or twice in this batch
    messages: int  # outbox rows added


def message_id(event_id: str, user_id: str) -> str:
    """The same Message-ID for the same (event, user) every time, naming neither the user
    nor anything of the event but its id."""
    user_hash = hashlib.sha256(user_id.encode()).hexdigest()[:20]
    return f"<{event_id}.{user_hash}@{MESSAGE_ID_DOMAIN}>"


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


Row = tuple[Any, ...]
PROCESSED_COLUMNS = ("event_id", "event_type", "payload", "recipients", "processed_at")
# An outbox row is its per-recipient values followed by the batch's constant ones.
OUTBOX_VARYING = ("message_id", "event_id", "user_id", "recipient", "level", "kind", "status")
IMMEDIATE = (OutboxKind.NOTIFICATION.value, OutboxStatus.PENDING.value)
HELD = (OutboxKind.DIGEST_ITEM.value, OutboxStatus.HELD.value)


# Left out of the insert: NULL for a notification, and without a default (a test holds it).
OUTBOX_NULL = ("ticket_id", "subject", "body_text", "body_html", "last_error", "sent_at")


def outbox_constants(now: datetime) -> dict[str, Any]:
    """Every other outbox column but OUTBOX_NULL and the id: inserting by hand skips model
    defaults. Each value costs COPY a field per row, so NULLs are not sent."""
    return {
        "channel": "email",
        "headers": {},
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def record_events(*, session: AsyncSession, events: list[Event], now: datetime) -> Recorded:
    """Add the processed-event rows and one outbox row per recipient; never commits."""
    unique = {event.id: event for event in reversed(events)}  # the first copy wins
    done = set(
        await session.exec(
            select(ProcessedEvent.event_id).where(col(ProcessedEvent.event_id).in_(list(unique)))
        )
    )
    new = [event for event_id, event in unique.items() if event_id not in done]
    found = await match_rows(session=session, targets=[target(event) for event in new])
    connection = await session.connection()
    processed, messages = _rows(connection.dialect, new, found, now)
    await _insert(connection, PROCESSED_TABLE, PROCESSED_COLUMNS, processed)
    constant_columns = tuple(outbox_constants(now))
    await _insert(connection, OUTBOX_TABLE, OUTBOX_VARYING + constant_columns, messages)
    return Recorded(len(new), len(events) - len(new), len(messages))


def _rows(
    dialect: Dialect, new: list[Event], found: list[list[Found]], now: datetime
) -> tuple[list[Row], list[Row]]:
    """The rows straight from the lookup's rows: per recipient only what differs."""
    when = _bound(PROCESSED_TABLE, "processed_at", now, dialect)
    constants = tuple(
        _bound(OUTBOX_TABLE, name, value, dialect) for name, value in outbox_constants(now).items()
    )
    held, immediate = HELD + constants, IMMEDIATE + constants
    processed: list[Row] = []
    messages: list[Row] = []
    for event, recipients in zip(new, found, strict=True):
        # Serialised once, by pydantic: both drivers take JSON columns as text.
        payload = event.model_dump_json(exclude_none=True)
        event_id = event.id
        processed.append((event_id, event.event_type, payload, len(recipients), when))
        messages += [
            (message_id(event_id, r[USER_ID]), event_id, r[USER_ID], r[EMAIL], r[LEVEL])
            + (held if r[DELIVERY] == DAILY else immediate)
            for r in recipients
        ]
    return processed, messages


def _bound(table: Table, column: str, value: Any, dialect: Dialect) -> Any:
    """`value` as SQLAlchemy would send it to the driver for this column."""
    process = table.c[column].type.bind_processor(dialect)
    return process(value) if process is not None else value


async def _insert(
    connection: AsyncConnection, table: Table, columns: Sequence[str], rows: list[Row]
) -> None:
    if not rows:
        return
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    if connection.dialect.name == "postgresql":
        # The queries before this one opened the session's transaction (asyncpg's adapter
        # begins it lazily); outside it these rows would commit on their own.
        if not driver.is_in_transaction():
            raise RuntimeError("batch rows must be inserted inside the session's transaction")
        await driver.copy_records_to_table(table.name, records=rows, columns=list(columns))
    else:
        # sqlite3 opens a transaction before the first INSERT; the session's commit ends it.
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
        await driver.executemany(sql, rows)
