"""The outbox sender: claim due rows, deliver them through their channel, record the outcome.

Three short steps, the database session never open while a mail server is talked to:

1. claim due rows in one transaction (on PostgreSQL `FOR UPDATE SKIP LOCKED`, so several
   senders share the work) and lease them by moving `next_attempt_at` forward, so a row
   being sent is not claimed again; rows whose user is gone are cancelled here;
2. render notifications from the stored event and the grant level recorded when matched
   (ticket forwards arrive rendered), and deliver per channel, reusing connections;
3. mark each row sent, due again after a backoff with jitter, or failed with its reason.
   Nothing is ever deleted.
"""

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import PermissionLevel
from domain.sqltypes import utcnow
from notifier.channels.base import PermanentDeliveryError, TransientDeliveryError, Transport
from notifier.kinds.rendering import Renderer
from notifier.pipeline.events import parse_payload
from notifier.pipeline.models import OutboxMessage, OutboxStatus, ProcessedEvent
from notifier.pipeline.outbox import KIND as NOTIFICATION
from subscriptions.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 10
    base: float = 30.0  # seconds before the second attempt
    cap: float = 3600.0  # the longest wait between two attempts


def backoff(attempts: int, policy: RetryPolicy, rng: random.Random) -> timedelta:
    """Exponential, with jitter so that rows failed together do not return together."""
    delay = min(policy.cap, policy.base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=delay * rng.uniform(0.5, 1.0))


class Sender:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        transports: Mapping[str, Transport],
        renderer: Renderer,
        policy: RetryPolicy | None = None,
        batch_size: int = 100,
        lease: timedelta = timedelta(minutes=5),
        poll_interval: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._transports = transports
        self._renderer = renderer
        self._policy = policy or RetryPolicy()
        self._batch_size = batch_size
        self._lease = lease
        self._poll_interval = poll_interval
        self._clock = clock
        self._rng = rng or random.Random()

    async def run(self) -> None:
        """Send until cancelled; a full batch means more is due, so go on at once."""
        while True:
            try:
                count = await self.send_batch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sending failed; trying again shortly")
                count = 0
            if count < self._batch_size:
                await asyncio.sleep(self._poll_interval)

    async def send_batch(self) -> int:
        """Claim, deliver and record one batch; the number of rows claimed."""
        claimed, events = await self._claim()
        if not claimed:
            return 0
        outcomes = await self._deliver(claimed, events)
        await self._record(claimed, outcomes)
        return len(claimed)

    async def _claim(self) -> tuple[list[OutboxMessage], dict[str, dict[str, Any]]]:
        now = self._clock()
        async with self._sessions() as session:
            query = (
                select(OutboxMessage)
                .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
                .where(col(OutboxMessage.next_attempt_at) <= now)
                .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
                .limit(self._batch_size)
                # SQLite ignores this (one writer at a time; one sender per SQLite file).
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.exec(query)).all())
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + self._lease
            events = await self._cancel_orphans(session, rows, now)
            await session.commit()
        return [r for r in rows if r.status == OutboxStatus.PENDING], events

    async def _cancel_orphans(
        self, session: AsyncSession, rows: list[OutboxMessage], now: datetime
    ) -> dict[str, dict[str, Any]]:
        """Cancel notifications whose user was deleted; the stored events of the rest."""
        notifications = [r for r in rows if r.kind == NOTIFICATION]
        if not notifications:
            return {}
        user_ids = {r.user_id for r in notifications}
        found_users = await session.exec(
            select(User.id, User.email).where(col(User.id).in_(user_ids))
        )
        emails = dict(found_users.all())
        for row in notifications:
            if row.user_id not in emails:
                row.status = OutboxStatus.CANCELLED
                row.last_error = "the user was deleted before the email was sent"
            else:
                # The address in force now: the e-service may have changed it since.
                row.recipient = emails[row.user_id]
        event_ids = {r.event_id for r in notifications}
        found = await session.exec(
            select(ProcessedEvent).where(col(ProcessedEvent.event_id).in_(event_ids))
        )
        return {event.event_id: event.payload for event in found}

    async def _deliver(
        self, rows: list[OutboxMessage], events: dict[str, dict[str, Any]]
    ) -> dict[int, Exception | None]:
        outcomes: dict[int, Exception | None] = {}
        by_channel: dict[str, list[OutboxMessage]] = defaultdict(list)
        for row in rows:
            assert row.id is not None
            failure = self._render(row, events) if row.kind == NOTIFICATION else None
            if failure is not None:
                outcomes[row.id] = failure
            else:
                by_channel[row.channel].append(row)
        for channel, messages in by_channel.items():
            outcomes |= await self._through(channel, messages)
        return outcomes

    def _render(self, row: OutboxMessage, events: dict[str, dict[str, Any]]) -> Exception | None:
        """Fill in the row (in memory only) from its event; a failure is permanent."""
        try:
            event = parse_payload(events[row.event_id or ""])
            level = PermissionLevel(row.level) if row.level else None
            email = self._renderer.render(event, level=level, user_id=row.user_id or "")
        except Exception as exc:
            log.exception("cannot render outbox row %s", row.id)
            return PermanentDeliveryError(f"cannot render: {exc!r}"[:500])
        row.subject, row.body_text, row.body_html = email.subject, email.text, email.html
        row.headers = row.headers | email.headers
        return None

    async def _through(
        self, channel: str, messages: list[OutboxMessage]
    ) -> dict[int, Exception | None]:
        transport = self._transports.get(channel)
        if transport is None:
            # A deployment that has not configured this channel yet: retried, then failed.
            failure = TransientDeliveryError(f"no transport for channel {channel!r}")
            return {m.id: failure for m in messages if m.id is not None}
        try:
            return await transport.deliver(messages)
        except Exception as exc:
            log.exception("the %s transport failed", channel)
            failure = TransientDeliveryError(f"{type(exc).__name__}: {exc}")
            return {m.id: failure for m in messages if m.id is not None}

    async def _record(
        self, rows: list[OutboxMessage], outcomes: dict[int, Exception | None]
    ) -> None:
        now = self._clock()
        sent = [row.id for row in rows if row.id in outcomes and outcomes[row.id] is None]
        async with self._sessions() as session:
            if sent:
                await session.exec(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.id).in_(sent))
                    .values(status=OutboxStatus.SENT, sent_at=now, last_error=None)
                )
            for row in rows:
                # A transport that forgot a row: try it again rather than lose it.
                outcome = outcomes.get(row.id or 0, TransientDeliveryError("no outcome"))
                if outcome is not None:
                    await session.exec(
                        update(OutboxMessage)
                        .where(col(OutboxMessage.id) == row.id)
                        .values(**self._failure(row, outcome, now))
                    )
            await session.commit()
        if len(sent) < len(rows):
            log.warning("sent %d of %d messages", len(sent), len(rows))

    def _failure(self, row: OutboxMessage, error: Exception, now: datetime) -> dict[str, Any]:
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
