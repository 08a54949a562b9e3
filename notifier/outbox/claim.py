"""When an outbox row is due, and how a sender takes it: the claim (one statement that
leases the first due rows), the fence that keeps what a sender writes to the rows it still
holds, and the retry policy that makes a failed row due again.

A claim counts one attempt, and nothing else writes `attempts`: a row's attempts are the
generation of its claim. A sender whose lease ran out (renewals failing through a database
failover) may find its rows claimed again by another; from then on the rows' attempts are
no longer the ones it claimed, so its renewals and its failures change nothing there.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Update, and_, tuple_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.outbox.models import Claimed, OutboxMessage, OutboxStatus

OUTBOX = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 10
    base: float = 30.0  # seconds before the second attempt
    cap: float = 3600.0  # the longest wait between two attempts


def backoff(attempts: int, policy: RetryPolicy, rng: random.Random) -> timedelta:
    """Exponential, with jitter so that rows failed together do not return together."""
    delay = min(policy.cap, policy.base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=delay * rng.uniform(0.5, 1.0))


# The first due rows come from the due index in its order (status, next_attempt_at, id),
# never from a sort of every due row. With statistics taken while the outbox was nearly
# empty (before a payment run), the planner expected a few rows and sorted all of them:
# 21 ms a claim at 67,000 pending rows, spilling to disk, half a core of PostgreSQL until
# autovacuum analysed the table again. For the claim's statement only: the kinds' own
# queries in the same transaction (a digest's items by id) sort a few rows, as they should.
IN_INDEX_ORDER = "SET LOCAL enable_sort = off"
SORTING_AGAIN = "SET LOCAL enable_sort TO DEFAULT"


def leasing(now: datetime, until: datetime, limit: int) -> Update:
    """The claim: the first `limit` rows due at `now`, their attempt counted and their
    lease taken until `until`, returned whole."""
    due = (
        select(OutboxMessage.id)
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .where(col(OutboxMessage.next_attempt_at) <= now)
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(due.scalar_subquery()))
        .values(attempts=OUTBOX.c.attempts + 1, next_attempt_at=until)
        .returning(*OUTBOX.c)
    )


async def lease(
    session: AsyncSession, *, now: datetime, until: datetime, limit: int
) -> list[Claimed]:
    """The claim, in the session's transaction: the due rows, their attempt counted and
    their lease taken, by id. On PostgreSQL `FOR UPDATE SKIP LOCKED`, so that several
    senders share the work; SQLite ignores it (one writer at a time; one sender per
    SQLite file)."""
    connection = await session.connection()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        await connection.exec_driver_sql(IN_INDEX_ORDER)
    found = await session.exec(leasing(now, until, limit))
    rows = sorted((Claimed(**row) for row in found.mappings()), key=lambda row: row.id)
    if postgresql:
        await connection.exec_driver_sql(SORTING_AGAIN)
    return rows


def held(rows: Sequence[Claimed]) -> ColumnElement[bool]:
    """The rows still pending under the claims of `rows` (their generation unchanged)."""
    return and_(
        col(OutboxMessage.status) == OutboxStatus.PENDING,
        tuple_(col(OutboxMessage.id), col(OutboxMessage.attempts)).in_(
            [(row.id, row.attempts) for row in rows]
        ),
    )


def renewing(rows: Sequence[Claimed], until: datetime) -> Update:
    """The lease of the rows still held, moved on to `until`."""
    return update(OutboxMessage).where(held(rows)).values(next_attempt_at=until)
