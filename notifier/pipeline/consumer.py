"""The RabbitMQ consumer: events in, processed-event and outbox rows out, in batches.

Deliveries are collected until `batch_size` of them or `batch_wait` seconds, then stored
in one transaction and acknowledged with one `ack(multiple=True)` after the commit: a
transaction per message caps the pipeline far below what the broker delivers. While one
batch commits, the next is collected and parsed. A message that is not a valid event is
published to the dead-letter queue with the reason in a header and acknowledged; it is
never retried, never dropped, and never stops the loop.
"""

import asyncio
import contextlib
import logging
from collections import Counter, deque
from collections.abc import Callable, Sequence

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier import db
from notifier.pipeline.broker import BrokerUnavailable, Topology, connect, declare
from notifier.pipeline.dead_letters import dead_letter
from notifier.pipeline.events import Event, InvalidEvent, parse_event
from notifier.pipeline.outbox import Recorded, record_events
from notifier.pipeline.telemetry import PipelineMetrics, reason_class

log = logging.getLogger(__name__)

# A batch that keeps failing while the database answers is split up to find the culprit.
BATCH_ATTEMPTS = 3


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
        self._url = amqp_url
        self._engine = engine
        self._sessions = sessions
        self.topology = topology or Topology()
        self._batch_size = batch_size
        self._batch_wait = batch_wait
        # Twice a batch: the broker keeps streaming while a batch commits.
        self._prefetch = prefetch or 2 * batch_size
        # Told after each commit that added outbox rows (wakes a sender in this process).
        self._on_stored = on_stored
        self._metrics = metrics or PipelineMetrics()
        self._connection: AbstractRobustConnection | None = None
        self._inbox: deque[AbstractIncomingMessage] = deque()
        self._arrived = asyncio.Event()  # set when the inbox is no longer empty
        self._full = asyncio.Event()  # set when it holds a batch
        self.consuming = asyncio.Event()
        self.acknowledged = 0  # messages settled since start (stored or dead-lettered)

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
            except Exception:
                log.exception("the consumer stopped; starting again in 5 s")
                await asyncio.sleep(5)

    async def _run_once(self) -> None:
        connection = await connect(self._url)
        self._connection = connection
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self._prefetch)
            declared = await declare(channel, self.topology)
            # Typed as a coroutine function, but aio-pika calls a plain one as it is
            # (aio_pika.tools.create_task): no task per message.
            await declared.queue.consume(self._receive)  # type: ignore[arg-type]
            log.info("consuming events from %s", self.topology.queue)
            self.consuming.set()
            await self._consume(channel)
        finally:
            self.consuming.clear()
            self._connection = None
            await connection.close()

    def _receive(self, message: AbstractIncomingMessage) -> None:
        """A plain function, not a coroutine: aio-pika then calls it without starting a
        task for each message. The batch loop is woken twice a batch, not per message."""
        self._inbox.append(message)
        if len(self._inbox) == 1:
            self._arrived.set()
        if len(self._inbox) >= self._batch_size:
            self._full.set()

    async def _next_batch(self) -> list[AbstractIncomingMessage]:
        """The messages that arrive until a batch is full, or `batch_wait` seconds after
        the first one."""
        if not self._inbox:
            self._arrived.clear()
            await self._arrived.wait()
        if len(self._inbox) < self._batch_size:
            self._full.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._batch_wait):
                    await self._full.wait()
        inbox = self._inbox
        return [inbox.popleft() for _ in range(min(len(inbox), self._batch_size))]

    async def _consume(self, channel: AbstractChannel) -> None:
        """Batch after batch, the next one collected and parsed while the one before it
        commits: the database's time overlaps ours. One batch is stored at a time, so the
        acknowledgements (each `multiple`) still follow the commits in order."""
        storing: asyncio.Task[None] | None = None
        try:
            while True:
                batch = await self._next_batch()
                valid = await self._validate(channel, batch)
                if storing is not None:
                    await storing
                storing = asyncio.create_task(self._settle(channel, valid, len(batch)))
        finally:
            if storing is not None:  # cancelled: unacknowledged, the broker redelivers
                storing.cancel()
                await asyncio.gather(storing, return_exceptions=True)

    async def _settle(
        self,
        channel: AbstractChannel,
        valid: list[tuple[AbstractIncomingMessage, Event]],
        delivered: int,
    ) -> None:
        if valid:
            await self._store_and_ack(channel, valid)
        self.acknowledged += delivered

    async def _validate(
        self, channel: AbstractChannel, batch: Sequence[AbstractIncomingMessage]
    ) -> list[tuple[AbstractIncomingMessage, Event]]:
        """The batch's valid events; the others are dead-lettered (and acknowledged)."""
        self._metrics.consumer_batch.observe(len(batch))
        valid: list[tuple[AbstractIncomingMessage, Event]] = []
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

    async def _store_and_ack(
        self, channel: AbstractChannel, valid: list[tuple[AbstractIncomingMessage, Event]]
    ) -> None:
        try:
            await self._store([event for _, event in valid])
        except Exception:
            log.exception("batch of %d events failed; storing them one by one", len(valid))
            await _ack_all(await self._store_one_by_one(channel, valid))
            return
        await _ack_all([message for message, _ in valid])

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
        self, channel: AbstractChannel, valid: list[tuple[AbstractIncomingMessage, Event]]
    ) -> list[AbstractIncomingMessage]:
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
        self, channel: AbstractChannel, message: AbstractIncomingMessage, reason: str
    ) -> None:
        log.warning("dead-lettering a message: %s", reason)
        self._metrics.dead_lettered.labels(reason=reason_class(reason)).inc()
        await dead_letter(channel, message, reason, queue=self.topology.dead_letter_queue)


async def _ack_all(messages: list[AbstractIncomingMessage]) -> None:
    """One ack(multiple=True) per channel: after a reconnect a batch can hold deliveries
    of the old channel, whose tags mean nothing on the new one (the broker redelivers
    those, and the processed-event record turns them away)."""
    last: dict[int, AbstractIncomingMessage] = {}
    for message in messages:
        last[id(message.channel)] = message
    for message in last.values():
        try:
            await message.ack(multiple=True)
        except Exception as exc:
            log.warning("could not acknowledge (%s); the broker will redeliver", exc)
