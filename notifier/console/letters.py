"""The dead-letter queue as the console shows it: each letter with its reason and body,
and one of them replayed onto the exchange or discarded, found by a key made from its
content (a queue has no ids to address a message by)."""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aio_pika.abc import AbstractIncomingMessage

from notifier.workers.broker import Declared, Topology, connect_once, declare
from notifier.workers.dead_letters import (
    DeadLetter,
    describe,
    for_replay,
    original_routing_key,
    replay,
)

LIMIT = 500  # read at most this many: the console is no tool for a flood
BODY_SHOWN = 4000


@dataclass(frozen=True, slots=True)
class Letter:
    key: str
    about: DeadLetter
    body: str


def key_of(message: AbstractIncomingMessage) -> str:
    digest = hashlib.sha256(message.body)
    digest.update(describe(message).at.encode())
    digest.update((message.message_id or "").encode())
    return digest.hexdigest()[:20]


def letter(message: AbstractIncomingMessage) -> Letter:
    body = message.body[:BODY_SHOWN].decode("utf-8", errors="replace")
    return Letter(key=key_of(message), about=describe(message), body=body)


T = TypeVar("T")
Held = list[AbstractIncomingMessage]


async def _held(url: str, topology: Topology, act: Callable[[Declared, Held], Awaitable[T]]) -> T:
    """`act` on the letters held unacknowledged; what it did not ack goes back."""
    connection = await connect_once(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        declared = await declare(channel, topology)
        held: list[AbstractIncomingMessage] = []
        try:
            while len(held) < LIMIT:
                message = await declared.dead.get(no_ack=False, fail=False, timeout=10)
                if message is None:
                    break
                held.append(message)
            return await act(declared, held)
        finally:
            for message in reversed(held):  # back in their order, the acted-on one aside
                if not message.processed:
                    await message.nack(requeue=True)


async def peek(url: str, topology: Topology) -> list[Letter]:
    """Up to LIMIT letters, oldest first; all of them stay in the queue."""

    async def read(declared: Declared, held: Held) -> list[Letter]:
        return [letter(message) for message in held]

    return await _held(url, topology, read)


async def replay_one(url: str, topology: Topology, key: str) -> bool:
    """Publish the letter with `key` to the exchange, then drop it from the queue."""

    async def republish(declared: Declared, held: Held) -> bool:
        for message in held:
            if key_of(message) == key:
                routing_key = original_routing_key(dict(message.headers or {}))
                await declared.exchange.publish(for_replay(message), routing_key=routing_key)
                await message.ack()
                return True
        return False

    return await _held(url, topology, republish)


async def discard_one(url: str, topology: Topology, key: str) -> bool:
    async def discard(declared: Declared, held: Held) -> bool:
        for message in held:
            if key_of(message) == key:
                await message.ack()
                return True
        return False

    return await _held(url, topology, discard)


async def count(url: str, topology: Topology) -> int:
    connection = await connect_once(url)
    async with connection:
        declared = await declare(await connection.channel(), topology)
        return declared.dead.declaration_result.message_count or 0


async def replay_all(url: str, topology: Topology) -> int:
    return len(await replay(url, topology, progress=lambda done, total: None))
