"""Failed emails, grouped by reason, and retrying them: a retried row is due again with
its attempts counted afresh, so the sender gives it a full set of tries."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.console.deliveries import Delivery, delivery
from notifier.outbox.models import OutboxMessage, OutboxStatus

SHOWN_PER_REASON = 20
NO_REASON = "(ingen orsak sparad)"


@dataclass(frozen=True, slots=True)
class Group:
    reason: str
    count: int
    latest: datetime
    rows: Sequence[Delivery]  # the newest SHOWN_PER_REASON of them


async def failed_groups(*, session: AsyncSession) -> list[Group]:
    """Largest group first."""
    counts = (
        await session.exec(
            select(OutboxMessage.last_error, func.count(), func.max(OutboxMessage.created_at))
            .where(col(OutboxMessage.status) == OutboxStatus.FAILED)
            .group_by(col(OutboxMessage.last_error))
        )
    ).all()
    groups = []
    for reason, count, latest in sorted(counts, key=lambda r: (-r[1], str(r[0]))):
        query = (
            select(OutboxMessage)
            .where(col(OutboxMessage.status) == OutboxStatus.FAILED)
            .where(_reason_is(reason))
            .order_by(col(OutboxMessage.id).desc())
            .limit(SHOWN_PER_REASON)
        )
        rows = [delivery(row, None) for row in (await session.exec(query)).all()]
        groups.append(Group(reason or NO_REASON, count, latest, rows))
    return groups


def _reason_is(reason: str | None) -> ColumnElement[bool]:
    column = col(OutboxMessage.last_error)
    return column.is_(None) if reason is None else column == reason


async def retry(
    *, session: AsyncSession, now: datetime, row_id: int | None = None, reason: str | None = None
) -> int:
    """Make failed rows due again: one by id, or every one of a reason; how many."""
    query = update(OutboxMessage).where(col(OutboxMessage.status) == OutboxStatus.FAILED)
    if row_id is not None:
        query = query.where(col(OutboxMessage.id) == row_id)
    if reason is not None:
        query = query.where(_reason_is(None if reason == NO_REASON else reason))
    done = await session.exec(
        query.values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now)
    )
    return int(done.rowcount)
