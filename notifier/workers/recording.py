"""What a delivered batch leaves in the outbox: each row sent, due again after a backoff
with jitter, or failed with its reason. Nothing is ever deleted."""

import logging
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.channels.base import PermanentDeliveryError, Results, TransientDeliveryError
from notifier.outbox.claim import RetryPolicy, backoff, held
from notifier.outbox.models import Claimed, OutboxMessage, OutboxStatus
from notifier.workers.telemetry import PipelineMetrics

log = logging.getLogger(__name__)
ID = col(OutboxMessage.id)


class Recorder:
    def __init__(self, policy: RetryPolicy, rng: random.Random, metrics: PipelineMetrics) -> None:
        self._policy = policy
        self._rng = rng
        self._metrics = metrics

    async def record(
        self,
        session: AsyncSession,
        rows: list[Claimed],
        outcomes: Results,
        now: datetime,
        carried: Mapping[int, list[int]],
    ) -> list[Claimed]:
        """Write each row's outcome in the session's transaction; the rows this sender
        recorded sent. A failure is written only where the claim is still this sender's
        (notifier.outbox.claim.held): after its lease ran out, the row's next owner decides.
        A delivery is a fact whoever holds the row: it is recorded over a pending or failed
        row, so a delivered message never ends failed. The rows a row carries (a digest's
        items) are recorded sent with it, in the same transaction."""
        delivered = [row for row in rows if row.id in outcomes and outcomes[row.id] is None]
        recorded = await _mark_sent(session, delivered, now) if delivered else set()
        if along := [item for row_id in recorded for item in carried.get(row_id, ())]:
            await _mark_carried(session, along, now)
        passed = 0
        for row in rows:
            # A channel that forgot a row: try it again rather than lose it.
            outcome = outcomes.get(row.id, TransientDeliveryError("no outcome"))
            if outcome is None:
                self._metrics.outcome(row.kind, None, final=True)
                continue
            values = self.failure(row, outcome, now)
            self._metrics.outcome(row.kind, outcome, final="status" in values)
            written = await session.exec(
                update(OutboxMessage).where(held([row])).values(**values).returning(ID)
            )
            passed += written.first() is None
        if len(delivered) < len(rows):
            log.warning("sent %d of %d messages", len(delivered), len(rows))
        if passed:
            log.warning("%d failure(s) not recorded: the rows were claimed again", passed)
        return [row for row in delivered if row.id in recorded]

    def failure(self, row: Claimed, error: Exception, now: datetime) -> dict[str, Any]:
        """A permanent failure, or the last attempt, is final; any other is tried again."""
        reason = f"{type(error).__name__}: {error}"[:2000]
        if isinstance(error, PermanentDeliveryError):
            return {"status": OutboxStatus.FAILED, "last_error": reason}
        if row.attempts >= self._policy.max_attempts:
            return {
                "status": OutboxStatus.FAILED,
                "last_error": f"gave up after {row.attempts} attempts: {reason}"[:2000],
            }
        return {
            "last_error": reason,
            "next_attempt_at": now + backoff(row.attempts, self._policy, self._rng),
        }


async def _mark_sent(session: AsyncSession, rows: list[Claimed], now: datetime) -> set[int]:
    """The ids this marks sent: a row another sender recorded sent already is left alone."""
    written = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_([row.id for row in rows]))
        .where(col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
        .values(status=OutboxStatus.SENT, sent_at=now, last_error=None)
        .returning(ID)
    )
    return set(written.scalars())


async def _mark_carried(session: AsyncSession, ids: list[int], now: datetime) -> None:
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .where(col(OutboxMessage.status) == OutboxStatus.HELD)
        .values(status=OutboxStatus.SENT, sent_at=now)
    )
