"""Retention: personal data older than the retention period is purged; counts, ids and the
audit trail stay (NOTIFIER_RETENTION_DAYS, `notifier purge`, daily under `serve`).

- outbox rows that are final (sent, failed, cancelled): the address, the user id, subject,
  bodies and headers go; the Message-ID, kind, status, attempts and times stay, and a
  failure's reason stays with any address in it masked;
- processed events whose emails are all final: the payload keeps only what says what
  happened where (type, time, organisation, compensation type); the person, the case
  and the payment go. The row itself stays: its event id is what turns a redelivered
  event away, so purging it would send the same notifications again;
- closed tickets: routing.ticketing.retention;
- suppressions lifted, and bounces received, before the period (a live suppression
  keeps its address: it must, to work).

Every step is idempotent and works in chunks, each chunk its own transaction.
"""

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier import db
from notifier.outbox.models import OutboxMessage, OutboxStatus, ProcessedEvent
from routing.ticketing.retention import purge_closed_tickets
from subscriptions import suppressions

FINAL = (
    OutboxStatus.SENT,
    OutboxStatus.FAILED,
    OutboxStatus.CANCELLED,
    OutboxStatus.BOUNCED,
    OutboxStatus.SUPPRESSED,
)
KEPT_EVENT_FIELDS = frozenset(
    {"schema_version", "event_id", "event_type", "occurred_at", "organisation",
     "compensation_type"}
)  # fmt: skip
PURGED = "purged"
ADDRESS = re.compile(r"[^\s<>\"',;:]+@[^\s<>\"',;:]+")
CHUNK = 500
DAY = timedelta(days=1)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Purged:
    outbox: int
    events: int
    tickets: int
    attachments: int
    suppressions: int = 0  # lifted suppressions and old bounces


async def purge(
    sessions: async_sessionmaker[AsyncSession], *, older_than: timedelta, now: datetime
) -> Purged:
    """Purge everything older than `now - older_than`; what was purged, counted."""
    before = now - older_than
    outbox = await _chunks(sessions, lambda s: purge_outbox(session=s, before=before))
    events = await _chunks(sessions, lambda s: purge_events(session=s, before=before))
    async with sessions() as session:
        lifted = await suppressions.purge(session=session, before=before)
        await session.commit()
    tickets = attachments = 0
    while True:
        async with sessions() as session:
            done = await purge_closed_tickets(session=session, before=before, now=now, limit=CHUNK)
            await session.commit()
        tickets, attachments = tickets + done.tickets, attachments + done.attachments
        if done.tickets < CHUNK:
            return Purged(outbox, events, tickets, attachments, lifted)


async def run_daily(
    sessions: async_sessionmaker[AsyncSession],
    *,
    older_than: timedelta,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Until cancelled: purge at start and then once a day. Running twice purges nothing
    more, so every sender process may run it."""
    while True:
        try:
            purged = await purge(sessions, older_than=older_than, now=clock())
            log.info("retention: purged %s", purged)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the retention purge failed; trying again in a day")
        await asyncio.sleep(DAY.total_seconds())


async def purge_database(url: str, *, older_than: timedelta) -> Purged:
    """`notifier purge`: one run on its own engine."""
    engine = db.create_engine(url)
    try:
        return await purge(db.sessionmaker(engine), older_than=older_than, now=utcnow())
    finally:
        await engine.dispose()


async def _chunks(sessions: async_sessionmaker[AsyncSession], step: Any) -> int:
    total = 0
    while True:
        async with sessions() as session:
            count: int = await step(session)
            await session.commit()
        total += count
        if count < CHUNK:
            return total


async def purge_outbox(*, session: AsyncSession, before: datetime) -> int:
    """Up to CHUNK final rows created before `before`; an empty recipient marks a purged
    row. Never commits."""
    query = (
        select(OutboxMessage)
        .where(col(OutboxMessage.status).in_(FINAL))
        .where(col(OutboxMessage.created_at) < before)
        .where(col(OutboxMessage.recipient) != "")
        .limit(CHUNK)
    )
    rows = list((await session.exec(query)).all())
    for row in rows:
        row.recipient, row.user_id, row.headers = "", None, {}
        row.subject = row.body_text = row.body_html = None
        row.last_error = ADDRESS.sub("[borttagen]", row.last_error) if row.last_error else None
        session.add(row)
    await session.flush()
    return len(rows)


async def purge_events(*, session: AsyncSession, before: datetime) -> int:
    """Up to CHUNK events processed before `before` with no email still to send. Never
    commits."""
    payload = ProcessedEvent.__table__.c.payload  # type: ignore[attr-defined]
    pending = exists().where(
        and_(
            col(OutboxMessage.event_id) == col(ProcessedEvent.event_id),
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
    )
    query = (
        select(ProcessedEvent)
        .where(col(ProcessedEvent.processed_at) < before)
        .where(payload[PURGED].as_boolean().is_(None))
        .where(~pending)
        .limit(CHUNK)
    )
    rows = list((await session.exec(query)).all())
    for row in rows:
        kept = {k: v for k, v in row.payload.items() if k in KEPT_EVENT_FIELDS}
        row.payload = kept | {PURGED: True}
        session.add(row)
    await session.flush()
    return len(rows)
