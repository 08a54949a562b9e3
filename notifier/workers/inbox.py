"""The consumer's deliveries, gathered into batches: up to `batch_size` of them, or what
arrived within `batch_wait` seconds of the first. The broker's reader appends; the batch
loop is woken twice a batch (the first message, a full batch), not once a message; how
many it lets the broker send ahead, and how a settled batch is acknowledged."""

import asyncio
import contextlib
import logging
from collections import deque
from typing import cast

from aiormq.abc import DeliveredMessage

from notifier.workers.broker import BrokerUnavailable

log = logging.getLogger(__name__)


def storing_at_once(dialect: str) -> int:
    """Batches stored at once: a commit waits for PostgreSQL about as long as the next
    batch takes to arrive and parse, so two keep both busy. SQLite has one writer."""
    return 2 if dialect == "postgresql" else 1


def prefetch_for(batch_size: int, dialect: str, prefetch: int | None = None) -> int:
    """`prefetch` if set, else a batch more than those storing: the broker keeps
    streaming meanwhile."""
    return prefetch or (storing_at_once(dialect) + 1) * batch_size


class Inbox:
    def __init__(self, batch_size: int, batch_wait: float) -> None:
        self._batch_size = batch_size
        self._batch_wait = batch_wait
        self._messages: deque[DeliveredMessage] = deque()
        self._arrived = asyncio.Event()  # set when it is no longer empty
        self._full = asyncio.Event()  # set when it holds a batch
        self._failure: Exception | None = None

    def clear(self) -> None:
        """For a new connection: what the one before it delivered, the broker delivers
        again."""
        self._messages.clear()
        self._failure = None

    async def receive(self, message: DeliveredMessage) -> None:
        """aiormq's consumer callback."""
        self._messages.append(message)
        if len(self._messages) == 1:
            self._arrived.set()
        if len(self._messages) >= self._batch_size:
            self._full.set()

    def fail(self, exc: Exception) -> None:
        """No more deliveries will come: the batch loop is told at its next batch."""
        self._failure = exc
        self._arrived.set()

    async def next_batch(self) -> list[DeliveredMessage]:
        if not self._messages:
            self._arrived.clear()
            await self._arrived.wait()
        if self._failure is not None:
            raise BrokerUnavailable(f"could not consume again: {self._failure!r}")
        if len(self._messages) < self._batch_size:
            self._full.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._batch_wait):
                    await self._full.wait()
        messages = self._messages
        return [messages.popleft() for _ in range(min(len(messages), self._batch_size))]


async def ack_all(messages: list[DeliveredMessage]) -> None:
    """One ack(multiple=True) per channel: after a reconnect a batch can hold deliveries
    of the old channel, whose tags mean nothing on the new one (the broker redelivers
    those, and the processed-event record turns them away)."""
    last: dict[int, DeliveredMessage] = {}
    for message in messages:
        last[id(message.channel)] = message
    for message in last.values():
        try:
            # A delivery always has its tag (only a Basic.GetEmpty has none).
            await message.channel.basic_ack(cast(int, message.delivery_tag), multiple=True)
        except Exception as exc:
            log.warning("could not acknowledge (%s); the broker will redeliver", exc)
