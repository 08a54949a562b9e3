"""The RabbitMQ consumer: events in, processed-event and outbox rows out, in batches.

Deliveries are collected (notifier.workers.inbox) until `batch_size` of them or
`batch_wait` seconds, stored in one transaction and acknowledged with one
`ack(multiple=True)` after the commit (a transaction per message caps the pipeline far
below what the broker delivers); on PostgreSQL two batches commit at once. A message that
is no valid event is dead-lettered with why, never retried, dropped or in the way.

The deliveries are aiormq's, on aio-pika's robust channel: aio-pika's message object and
second task per delivery cost a fifth of the consumer's time, and it subscribes again
itself after a reconnect. A lost connection goes back to the factory, which tries the
cluster's other nodes first (broker.Nodes).
"""

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Sequence

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractRobustChannel, AbstractRobustConnection
from aiormq.abc import DeliveredMessage
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier import db
from notifier.outbox.events import Event, InvalidEvent, parse_event
from notifier.outbox.record import Recorded, record_events
from notifier.workers.broker import BrokerUnavailable, Nodes, Topology, declare
from notifier.workers.dead_lettering import DeadLetterNotSafe, dead_letter
from notifier.workers.inbox import Inbox, ack_all, prefetch_for, storing_at_once
from notifier.workers.telemetry import PipelineMetrics, reason_class

log = logging.getLogger(__name__)

# A batch that keeps failing while the database answers is split up to find the culprit.
BATCH_ATTEMPTS = 3
# Before connecting again: at once to another node after a lost one; a pause after any
# other failure, so that a failing start does not spin.
PAUSE_AFTER_LOSS = 0.5
PAUSE_AFTER_FAILURE = 5.0


class Consumer:
    def __init__(
        self,
        *,
        amqp_url: str,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        topology: Topology | None = None,
        batch_size: int = 500,
        batch_wait: float = 0.05,
        prefetch: int | None = None,
        on_stored: Callable[[], None] = lambda: None,
        metrics: PipelineMetrics | None = None,
    ) -> None:
        self._nodes = Nodes(amqp_url)
        self._engine = engine
        self._sessions = sessions
        self.topology = topology or Topology()
        self._storing = storing_at_once(engine.dialect.name)
        self._prefetch = prefetch_for(batch_size, engine.dialect.name, prefetch)
        # Told after each commit that added outbox rows (wakes a sender in this process).
        self._on_stored = on_stored
        self._metrics = metrics or PipelineMetrics()
        self._connection: AbstractRobustConnection | None = None
        self._inbox = Inbox(batch_size, batch_wait)
        self.consuming = asyncio.Event()
        self.acknowledged = 0  # messages acknowledged since start (stored or dead-lettered)

    async def check(self) -> None:
        """The readiness check "rabbitmq"."""
        if self._connection is None or self._connection.is_closed:
            raise BrokerUnavailable("not connected to RabbitMQ")

    async def run(self) -> None:
        """Consume until cancelled, surviving a missing broker and failing batches."""
        while True:
            try:
                await self._run_once()
            except asyncio.CancelledError:
                raise
            except (BrokerUnavailable, DeadLetterNotSafe) as exc:
                log.warning("consuming again, from the next node that answers: %s", exc)
                await asyncio.sleep(PAUSE_AFTER_LOSS)
            except Exception:
                log.exception("the consumer stopped; starting again in 5 s")
                await asyncio.sleep(PAUSE_AFTER_FAILURE)

    @property
    def node(self) -> str | None:
        """The node URL connected to last (the fault suite kills it)."""
        return self._nodes.connected_to

    async def _run_once(self) -> None:
        self._inbox.clear()
        connection = await self._nodes.connect()
        self._connection = connection
        connection.close_callbacks.add(self._lost)
        try:
            # Returns raise: a dead letter nobody can route is never taken for delivered.
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            await channel.set_qos(prefetch_count=self._prefetch)
            await declare(channel, self.topology)
            await self._subscribe(channel)
            # aio-pika restores its own consumers after a reconnect, not this one.
            channel.reopen_callbacks.add(self._resubscribe)
            log.info("consuming events from %s", self.topology.queue)
            self.consuming.set()
            await self._consume(channel)
        finally:
            self.consuming.clear()
            self._connection = None
            await connection.close()

    def _lost(self, connection: object, exc: BaseException | None) -> None:
        """The connection in use closed (its node is down): stop consuming from it, so
        that the next connection may be to another node. One we closed ourselves is no
        longer in use, and a later one's batches are not disturbed."""
        if connection is self._connection:
            self._inbox.fail(BrokerUnavailable(f"connection lost: {exc!r}"))

    async def _subscribe(self, channel: AbstractRobustChannel) -> None:
        """Consume on the channel's aiormq channel of the moment (a new one after each
        reconnect)."""
        underlay = await channel.get_underlay_channel()
        await underlay.basic_consume(self.topology.queue, self._inbox.receive)

    async def _resubscribe(self, channel: AbstractRobustChannel | None) -> None:
        """After aio-pika reopened the channel. It would swallow a failure here and leave
        the consumer connected but idle: the batch loop is told to start again instead."""
        try:
            if channel is None:
                raise BrokerUnavailable("the channel is gone")
            await self._subscribe(channel)
        except Exception as exc:
            self._inbox.fail(exc)

    async def _consume(self, channel: AbstractChannel) -> None:
        """Batch after batch, the next ones collected and parsed while those before them
        commit, each in its own transaction: the database's time overlaps ours."""
        storing: deque[asyncio.Task[None]] = deque()
        try:
            while True:
                batch = await self._inbox.next_batch()
                valid = await self._validate(channel, batch)
                if len(storing) == self._storing:
                    await storing.popleft()
                before = storing[-1] if storing else None
                then_ack = self._store_then_ack(channel, valid, len(batch), before)
                storing.append(asyncio.create_task(then_ack))
        finally:  # cancelled: unacknowledged, the broker redelivers
            for task in storing:
                task.cancel()
            await asyncio.gather(*storing, return_exceptions=True)

    async def _store_then_ack(
        self,
        channel: AbstractChannel,
        valid: list[tuple[DeliveredMessage, Event]],
        delivered: int,
        before: asyncio.Task[None] | None,
    ) -> None:
        """Store the batch, then acknowledge it once the batch before it is acknowledged: an
        acknowledgement is `multiple`, so it must not run ahead of an earlier commit. (An
        event redelivered into two batches storing at once fails the later one's commit;
        its next attempt finds the event processed.)"""
        stored = await self._store_batch(channel, valid) if valid else []
        if before is not None:
            await before
        await ack_all(stored)
        self.acknowledged += delivered

    async def _validate(
        self, channel: AbstractChannel, batch: Sequence[DeliveredMessage]
    ) -> list[tuple[DeliveredMessage, Event]]:
        """The batch's valid events; the others are dead-lettered (and acknowledged)."""
        self._metrics.consumer_batch.observe(len(batch))
        valid: list[tuple[DeliveredMessage, Event]] = []
        for message in batch:
            try:
                event = parse_event(message.body)
            except InvalidEvent as exc:
                await self.dead_letter(channel, message, str(exc))
                continue
            valid.append((message, event))
        for event_type, count in Counter(event.event_type for _, event in valid).items():
            self._metrics.consumed.labels(event_type=event_type).inc(count)
        return valid

    async def _store_batch(
        self, channel: AbstractChannel, valid: list[tuple[DeliveredMessage, Event]]
    ) -> list[DeliveredMessage]:
        """The messages stored, to acknowledge (the others were dead-lettered)."""
        try:
            await self._store([event for _, event in valid])
        except Exception:
            log.exception("batch of %d events failed; storing them one by one", len(valid))
            return await self._store_one_by_one(channel, valid)
        return [message for message, _ in valid]

    async def _store(self, events: list[Event]) -> Recorded:
        """One transaction; while the database does not answer, wait and try again rather
        than give the messages back (they are safe in the broker, unacknowledged)."""
        attempt = 0
        while True:
            try:
                return await self._commit(events)
            except Exception as exc:
                attempt += 1
                if attempt >= BATCH_ATTEMPTS and await db.answers(self._engine):
                    raise
                delay = min(0.1 * 2**attempt, 10.0)
                log.warning("storing %d events failed (%s); retrying", len(events), exc)
                await asyncio.sleep(delay)

    async def _commit(self, events: list[Event]) -> Recorded:
        async with self._sessions() as session:
            recorded = await record_events(session=session, events=events, now=utcnow())
            await session.commit()
        if recorded.messages:
            self._metrics.matched.inc(recorded.messages)
            self._on_stored()
        if recorded.duplicates:
            log.info("skipped %d events already processed", recorded.duplicates)
        return recorded

    async def _store_one_by_one(
        self, channel: AbstractChannel, valid: list[tuple[DeliveredMessage, Event]]
    ) -> list[DeliveredMessage]:
        """The messages stored; the others are dead-lettered (and so acknowledged already:
        acknowledging one twice would close the channel)."""
        stored = []
        for message, event in valid:
            try:
                await self._store([event])
                stored.append(message)
            except Exception as exc:
                await self.dead_letter(channel, message, f"processing failed: {exc!r}"[:500])
        return stored

    async def dead_letter(
        self, channel: AbstractChannel, message: DeliveredMessage, reason: str
    ) -> None:
        log.warning("dead-lettering a message: %s", reason)
        self._metrics.dead_lettered.labels(reason=reason_class(reason)).inc()
        incoming = aio_pika.IncomingMessage(message, no_ack=False)
        await dead_letter(channel, incoming, reason, queue=self.topology.dead_letter_queue)
