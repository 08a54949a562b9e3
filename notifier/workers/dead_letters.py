"""The dead-letter queue, as operators see it: what is there and why (list), and each
letter published onto the exchange again (replay: after a fix, say, a new event type the
consumer now knows). How a letter gets there: notifier.workers.dead_lettering."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from domain.swedish import SWEDISH_TIME
from notifier.workers.broker import (
    EVENT_ID_HEADER,
    REASON_HEADER,
    ROUTING_KEY_HEADER,
    TIME_HEADER,
    Topology,
    connect_once,
    declare,
)

Progress = Callable[[int, int], None]  # (done, total)
# The columns of `DeadLetter.line`, for the command line.
HEADING = f"{'tid (svensk tid)':<19} {'händelse-id':<36}  {'händelsetyp':<34}  orsak"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    reason: str
    event_id: str
    at: str
    routing_key: str

    def line(self) -> str:
        """One line for a person: when (Swedish time), which event, of what type, why."""
        return f"{_swedish(self.at):<19} {self.event_id:<36}  {self.routing_key:<34}  {self.reason}"


def _swedish(at: str) -> str:
    """The header's UTC ISO time as '2026-11-26 19.44'; anything else as it is."""
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{aware.astimezone(SWEDISH_TIME):%Y-%m-%d %H.%M}"


def describe(message: AbstractIncomingMessage) -> DeadLetter:
    headers: dict[str, Any] = dict(message.headers or {})
    reason = headers.get(REASON_HEADER)
    if reason is None and (death := _first_death(headers)):
        # Dead-lettered by the broker itself, e.g. redelivered past the delivery limit.
        reason = f"broker: {death.get('reason', 'unknown')}"
    return DeadLetter(
        reason=str(reason or "unknown"),
        event_id=str(headers.get(EVENT_ID_HEADER) or "-"),
        at=str(headers.get(TIME_HEADER) or "-"),
        routing_key=original_routing_key(headers),
    )


def original_routing_key(headers: dict[str, Any]) -> str:
    if key := headers.get(ROUTING_KEY_HEADER):
        return str(key)
    death = _first_death(headers)
    keys = death.get("routing-keys") if death else None
    return str(keys[0]) if keys else "unknown"


def _first_death(headers: dict[str, Any]) -> dict[str, Any] | None:
    deaths = headers.get("x-death")
    return deaths[0] if isinstance(deaths, list) and deaths else None


async def list_dead_letters(url: str, topology: Topology, *, limit: int) -> list[DeadLetter]:
    """Up to `limit` dead letters, oldest first; all of them stay in the queue."""
    connection = await connect_once(url)
    async with connection:
        channel = await connection.channel()
        declared = await declare(channel, topology)
        held: list[AbstractIncomingMessage] = []
        while len(held) < limit:
            message = await declared.dead.get(no_ack=False, fail=False, timeout=10)
            if message is None:
                break
            held.append(message)
        letters = [describe(message) for message in held]
        for message in reversed(held):  # back in their order
            await message.nack(requeue=True)
        await _until_ready(channel, topology.dead_letter_queue, len(held))
    return letters


async def _until_ready(channel: AbstractChannel, queue: str, count: int) -> None:
    """Until `count` messages are ready again: a quorum queue's leader takes back what
    was returned a moment after the channel has sent it, and a listing right after this
    one would otherwise miss them."""
    for _ in range(50):
        declared = await channel.declare_queue(queue, passive=True)
        if (declared.declaration_result.message_count or 0) >= count:
            return
        await asyncio.sleep(0.1)


Select = Callable[[DeadLetter], bool]


def matching(*, reason: str | None = None, routing_key: str | None = None) -> Select:
    """Dead letters whose reason contains `reason` and whose original routing key (the
    event type) is `routing_key`; None: any."""

    def select(letter: DeadLetter) -> bool:
        wanted_reason = reason is None or reason.lower() in letter.reason.lower()
        return wanted_reason and (routing_key is None or letter.routing_key == routing_key)

    return select


async def replay(
    url: str,
    topology: Topology,
    *,
    progress: Progress,
    select: Select = lambda letter: True,
    dry_run: bool = False,
) -> list[DeadLetter]:
    """Publish each selected dead letter back to the exchange under its original routing
    key, acknowledging it only once the broker confirmed the publish; the others (every
    one, with `dry_run`) stay in the queue in their order. Bounded by the count at the
    start: a message that fails again is not replayed twice in one run. Returns the dead
    letters replayed (with `dry_run`: that would be)."""
    connection = await connect_once(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        declared = await declare(channel, topology)
        total = declared.dead.declaration_result.message_count or 0
        replayed: list[DeadLetter] = []
        kept: list[AbstractIncomingMessage] = []
        progress(0, total)
        for done in range(1, total + 1):
            message = await declared.dead.get(no_ack=False, fail=False, timeout=10)
            if message is None:
                break
            letter = describe(message)
            if select(letter):
                replayed.append(letter)
            if dry_run or not select(letter):
                kept.append(message)  # held unacknowledged, so the next get moves on
            else:
                await declared.exchange.publish(for_replay(message), routing_key=_key(message))
                await message.ack()
            progress(done, total)
        for message in reversed(kept):  # back in their order
            await message.nack(requeue=True)
        await _until_ready(channel, topology.dead_letter_queue, len(kept))
    return replayed


def _key(message: AbstractIncomingMessage) -> str:
    return original_routing_key(dict(message.headers or {}))


def for_replay(message: AbstractIncomingMessage) -> aio_pika.Message:
    headers = {
        name: value
        for name, value in (message.headers or {}).items()
        if not name.startswith(("x-notifier-", "x-death", "x-first-death", "x-last-death"))
    }
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type or "application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
    )


def progress_bar(write: Callable[[str], object], width: int = 30) -> Progress:
    """A one-line bar redrawn in place, for runs of thousands."""

    def show(done: int, total: int) -> None:
        filled = width if total == 0 else width * done // total
        end = "\n" if done >= total else ""
        write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")

    return show
