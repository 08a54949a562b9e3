"""The console's first page: the figures of the metrics, for someone without Grafana,
read from the database so that they hold for every process of a deployment."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.console import letters
from notifier.console.state import ConsoleWeb
from notifier.outbox.models import OutboxMessage, OutboxStatus, ProcessedEvent
from subscriptions import suppressions

DAY = timedelta(hours=24)


async def with_dead_letters(*, session: AsyncSession, console: ConsoleWeb) -> dict[str, Any]:
    """`figures`, and how many dead letters wait (None: the broker does not answer)."""
    found = await figures(session=session, now=console.now())
    try:
        found["dead_letters"] = await letters.count(console.amqp_url, console.topology)
    except Exception:  # the broker away: the rest still tells
        found["dead_letters"] = None
    return found


async def figures(*, session: AsyncSession, now: datetime) -> dict[str, Any]:
    pending = (
        await session.exec(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                col(OutboxMessage.status) == OutboxStatus.PENDING
            )
        )
    ).one()
    oldest = pending[1]
    return {
        "pending": pending[0],
        "oldest_pending_seconds": int((now - oldest).total_seconds()) if oldest else None,
        "last_24h": await _per_kind(session, now - DAY),
        "suppressed": await suppressions.count_active(session=session),
        "consumer_last_active": await _latest(session, ProcessedEvent.processed_at),
        "sender_last_active": await _latest(session, OutboxMessage.sent_at),
    }


async def _per_kind(session: AsyncSession, since: datetime) -> dict[str, dict[str, int]]:
    """Sent and failed per kind since `since` (a failed row counts by when it was made)."""
    found: dict[str, dict[str, int]] = {}
    sent = select(OutboxMessage.kind, func.count()).where(col(OutboxMessage.sent_at) >= since)
    failed = select(OutboxMessage.kind, func.count()).where(
        col(OutboxMessage.status) == OutboxStatus.FAILED, col(OutboxMessage.created_at) >= since
    )
    for status, query in (("sent", sent), ("failed", failed)):
        for kind, n in (await session.exec(query.group_by(col(OutboxMessage.kind)))).all():
            found.setdefault(kind, {"sent": 0, "failed": 0})[status] = n
    return dict(sorted(found.items()))


async def _latest(session: AsyncSession, column: Any) -> datetime | None:
    value: datetime | None = (await session.exec(select(func.max(column)))).one()
    return value
