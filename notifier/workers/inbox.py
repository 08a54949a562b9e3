"""The consumer's deliveries, gathered into batches: up to `batch_size` of them, or what
arrived within `batch_wait` seconds of the first. The broker's reader appends; the batch
loop is woken twice a batch (the first message, a full batch), not once a message."""

import asyncio
import contextlib
from collections import deque

from aiormq.abc import DeliveredMessage

from notifier.workers.broker import BrokerUnavailable


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
