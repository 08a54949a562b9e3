"""Daily digests are due: one outbox row of kind DIGEST per user with held items and day.

Exactly once per user and day: the row's message id is derived from both, so a second
run, a restart or a second sender inserts nothing (the outbox's unique message_id
decides). The ordinary sender then claims the row; notifier.kinds.digest renders it.

A scheduled run takes the items held up to the day's digest time, so a restart later that
day sends no second, late digest to anyone; `notifier digest --now` takes all held items.
A digest row's created_at is that cutoff: the digest shows the items held since before it,
however long after the row is claimed.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier.outbox.message_ids import digest_id
from notifier.outbox.models import OutboxKind, OutboxMessage, OutboxStatus
from subscriptions.models import User

log = logging.getLogger(__name__)
OUTBOX_TABLE = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]
LONGEST_SLEEP = 3600.0  # wake hourly anyway: a changed clock is noticed within the hour


def due(
    now: datetime, at: time, zone: ZoneInfo, *, force: bool = False
) -> tuple[date, datetime] | None:
    """The local day whose digests are due at `now` and the cutoff of their items: today
    once its time has come (the cutoff: that time), or at once with `force` (the cutoff:
    now); before the time, nothing."""
    local = now.astimezone(zone)
    if force:
        return local.date(), now
    moment = datetime.combine(local.date(), at, tzinfo=zone)
    return (local.date(), moment) if local >= moment else None


async def create_digests(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, day: date, cutoff: datetime
) -> int:
    """One pending digest row for `day` per user with items held since before `cutoff`;
    how many were new."""
    async with sessions() as session:
        found = await session.exec(
            select(OutboxMessage.user_id, User.email)
            .join(User, col(User.id) == col(OutboxMessage.user_id))
            .where(col(OutboxMessage.kind) == OutboxKind.DIGEST_ITEM)
            .where(col(OutboxMessage.status) == OutboxStatus.HELD)
            .where(col(OutboxMessage.created_at) <= cutoff)
            .distinct()
        )
        rows = [
            _digest_row(user_id, email, day, now, cutoff) for user_id, email in found if user_id
        ]
        if not rows:
            return 0
        connection = await session.connection()
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(OUTBOX_TABLE).on_conflict_do_nothing(index_elements=["message_id"])
        result = await connection.execute(insert.values(rows))
        await session.commit()
    created = max(result.rowcount, 0)
    log.info("%d new daily digest(s) for %s", created, day.isoformat())
    return created


def _digest_row(
    user_id: str, email: str, day: date, now: datetime, cutoff: datetime
) -> dict[str, Any]:
    return {
        "message_id": digest_id(user_id, day),
        "channel": "email",
        "kind": OutboxKind.DIGEST.value,
        "user_id": user_id,
        "recipient": email,
        "headers": {},
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": cutoff,
    }


def next_run(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The next time of day `at` in `zone` after `now` (a DST change moves it with the
    wall clock, as people expect)."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=zone)
    return candidate


async def run_daily(
    sessions: async_sessionmaker[AsyncSession],
    *,
    at: time,
    zone: ZoneInfo,
    on_created: Callable[[], None],
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Until cancelled: at start (a restart after the time catches up) and at each day's
    time, make the digests that are due; `on_created` wakes the sender."""
    while True:
        now = clock()
        found = due(now, at, zone)
        try:
            if found and await create_digests(sessions, now=now, day=found[0], cutoff=found[1]):
                on_created()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("making the daily digests failed; trying again at the next wake")
        wait = (next_run(now, at, zone) - now).total_seconds()
        await asyncio.sleep(min(max(wait, 1.0), LONGEST_SLEEP))
