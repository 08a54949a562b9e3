"""The outbox sender: claim due rows, prepare them by kind, deliver them by channel,
record the outcome, then let each kind record what delivery means for it.

The database session is never open while a mail server is talked to:

1. claim due rows in one statement (notifier.outbox.claim; on PostgreSQL `FOR UPDATE
   SKIP LOCKED`, so several senders share the work) that leases them by moving
   `next_attempt_at` a short while forward; each kind prepares its rows in the same
   transaction (notifications are rendered, ticket forwards get their files), in memory:
   only what it decides (a row cancelled, an address changed) is written back;
2. deliver per channel, reusing connections, while the lease is renewed: a sender that
   dies mid-batch leaves rows that are due again within one lease, and a message the
   server accepted but that was not yet recorded is sent again with the same Message-ID;
3. mark each row sent (and what it carries: a digest's items), due again after a backoff
   with jitter, or failed with its reason, in one transaction (notifier.workers.recording);
   renewals and failures touch only the rows whose claim is still this sender's.
   Nothing is ever deleted.

Stopped (`stop`: SIGTERM, the app's shutdown), a sender claims nothing more and finishes
the batches in hand, so that none of their messages is sent twice; cancelled (the stop
took too long), it gives back the rows it holds (notifier.workers.held).

On PostgreSQL two batches are in flight, so that the mail server is never idle while a
batch is claimed or recorded.
"""

import asyncio
import contextlib
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier import db
from notifier.channels.base import Channel, Results, TransientDeliveryError
from notifier.kinds import Prepared, Ready, Steps
from notifier.outbox.claim import RetryPolicy, lease
from notifier.outbox.models import Claimed, OutboxMessage, OutboxStatus
from notifier.workers.held import Held
from notifier.workers.recording import Recorder
from notifier.workers.telemetry import PipelineMetrics

log = logging.getLogger(__name__)
# Marks claimed rows that must not be delivered after all (notifier.outbox.suppressed).
Screen = Callable[[AsyncSession, list[Claimed]], Awaitable[None]]


class Sender:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[str, Channel],
        kinds: Mapping[str, Steps],
        policy: RetryPolicy | None = None,
        batch_size: int = 100,
        in_flight: int = 1,
        lease: timedelta = timedelta(seconds=20),
        poll_interval: float = 1.0,
        wake: asyncio.Event | None = None,
        metrics: PipelineMetrics | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        screen: Screen | None = None,
    ) -> None:
        self._sessions = sessions
        self._channels = channels
        self._kinds = kinds
        self._batch_size = batch_size
        self._in_flight = in_flight
        self._lease = lease
        self._poll_interval = poll_interval
        # Set when new rows are committed in this process: no waiting for the next poll.
        self._wake = wake or asyncio.Event()
        self._metrics = metrics or PipelineMetrics()
        self._clock = clock
        self._recorder = Recorder(policy or RetryPolicy(), rng or random.Random(), self._metrics)
        self._screen = screen
        self._held = Held(sessions, clock, lease)
        self._stopping = asyncio.Event()
        self._running: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Send until cancelled, `in_flight` batches at a time: while one is with the
        mail server, the next is claimed and the last recorded. Only where claims skip
        each other's rows (PostgreSQL) may there be more than one. Cancelled, it gives
        back the rows it still holds; stopped, it ends once its batches are recorded."""
        self._running = asyncio.current_task()
        try:
            async with asyncio.TaskGroup() as loops:  # cancelled, waits for both loops
                for _ in range(self._in_flight):
                    loops.create_task(self._loop())
        finally:
            await self._held.give_back()

    async def stop(self) -> None:
        """Claim nothing more; return once the batches in hand are delivered and recorded
        and `run` has ended (at once if it is not running). Whoever stops it bounds the
        wait, and cancels `run` after that."""
        self._stopping.set()
        self._wake.set()  # a loop waiting for work looks again, and ends
        if self._running is not None and not self._running.done():
            await asyncio.wait([self._running])

    async def _loop(self) -> None:
        """A full batch means more is due, so go on at once. While the database is away,
        that is said once, not with a traceback at every try."""
        away = False
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                count = await self.send_batch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                count = 0
                if await self._database_answers():
                    log.exception("sending failed; trying again shortly")
                elif not away:
                    away = True
                    log.warning("the database does not answer (%s); sending waits", _kind(exc))
            else:
                if away:
                    away = False
                    log.info("the database answers again; sending goes on")
            if count < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)

    async def _database_answers(self) -> bool:
        async with self._sessions() as session:  # opens no connection by itself
            engine = session.bind
        assert isinstance(engine, AsyncEngine)  # the sessions are made on an engine
        return await db.answers(engine)

    async def send_batch(self) -> int:
        """Claim, deliver and record one batch; the number of rows claimed."""
        claimed, prepared = await self._claim()
        if not claimed:
            return 0
        self._metrics.sender_batch.observe(len(claimed))
        self._held.add(claimed)
        try:
            async with self._held.renewed(claimed):
                outcomes = await self._deliver(claimed, prepared)
            delivered = await self._record(claimed, outcomes, prepared)
        except asyncio.CancelledError:
            raise  # still held: a stopped `run` gives them back
        except Exception:
            self._held.forget(claimed)  # a failed batch waits for its lease
            raise
        self._held.forget(claimed)
        await self._after_delivery(delivered)
        return len(claimed)

    async def _claim(self) -> tuple[list[Claimed], Prepared]:
        """Lease due rows and prepare them. What a kind's preparation puts into a row
        (a rendered email) stays in memory; what it decides is written back: a row it
        cancelled, an address that changed since the row was queued."""
        prepared = Prepared()
        async with self._sessions() as session:
            rows = await self._lease_due(session)
            before = {row.id: _decided(row) for row in rows}
            for kind, of_kind in _group(rows, "kind").items():
                await self._steps(kind).prepare(session, of_kind, prepared)
            if self._screen is not None:  # after preparing: on the address it settled
                await self._screen(session, rows)
            for row in rows:
                if (decided := _decided(row)) != before[row.id]:
                    await session.exec(
                        update(OutboxMessage).where(col(OutboxMessage.id) == row.id).values(decided)
                    )
            await session.commit()
        return [row for row in rows if row.status == OutboxStatus.PENDING], prepared

    async def _lease_due(self, session: AsyncSession) -> list[Claimed]:
        now = self._clock()
        return await lease(session, now=now, until=now + self._lease, limit=self._batch_size)

    def _steps(self, kind: str) -> Steps:
        return self._kinds.get(kind) or Ready()

    async def _deliver(self, rows: list[Claimed], prepared: Prepared) -> Results:
        outcomes: Results = dict(prepared.failures)
        ready = [row for row in rows if row.id not in outcomes]
        for channel, messages in _group(ready, "channel").items():
            outcomes |= await self._through(channel, messages, prepared)
        return outcomes

    async def _through(self, name: str, messages: list[Claimed], prepared: Prepared) -> Results:
        channel = self._channels.get(name)
        if channel is None:
            # A deployment that has not configured this channel yet: retried, then failed.
            failure = TransientDeliveryError(f"channel not configured: {name!r}")
            return dict.fromkeys((m.id for m in messages), failure)
        try:
            with self._metrics.delivery_seconds.labels(channel=name).time():
                return await channel.deliver(messages, prepared.files)
        except Exception as exc:
            log.exception("the %s channel failed", name)
            failure = TransientDeliveryError(f"{type(exc).__name__}: {exc}")
            return dict.fromkeys((m.id for m in messages), failure)

    async def _record(
        self, rows: list[Claimed], outcomes: Results, prepared: Prepared
    ) -> list[Claimed]:
        """The outcomes in one transaction; the rows recorded sent."""
        async with self._sessions() as session:
            now = self._clock()
            recorder = self._recorder
            delivered = await recorder.record(session, rows, outcomes, now, prepared.carried)
            await session.commit()
        return delivered

    async def _after_delivery(self, delivered: list[Claimed]) -> None:
        """The messages did arrive and are recorded sent whatever happens here."""
        for kind, rows in _group(delivered, "kind").items():
            try:
                async with self._sessions() as session:
                    await self._steps(kind).after_delivery(session, rows)
                    await session.commit()
            except Exception:
                log.exception("after delivering %d %s message(s)", len(rows), kind)


def _decided(row: Claimed) -> dict[str, Any]:
    """What preparing a row may decide about it, beside what it is to say."""
    return {"status": row.status, "last_error": row.last_error, "recipient": row.recipient}


def _group(rows: list[Claimed], attribute: str) -> dict[str, list[Claimed]]:
    groups: dict[str, list[Claimed]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, attribute)].append(row)
    return groups


def _kind(exc: BaseException) -> str:
    """The innermost cause's class: asyncpg's, not SQLAlchemy's wrapper of it."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return type(exc).__name__
