"""A claim is short and renewed while its batch is delivered: a long delivery keeps its
rows, a sender that died mid-batch leaves rows that are due again within one lease, and
one that was stopped gives them back at once, each sent again under the same Message-ID.
And each event is rendered once per level."""

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.sqltypes import utcnow
from notifier import db
from notifier.channels.base import Files, PermanentDeliveryError, Results, TransientDeliveryError
from notifier.channels.files import FileChannel
from notifier.kinds.notifications import (
    NotificationSteps,
    placeholder_links,
    placeholder_preferences,
)
from notifier.kinds.rendering import Email, Renderer
from notifier.outbox.claim import RetryPolicy
from notifier.outbox.events import Event
from notifier.outbox.models import Claimed
from notifier.outbox.record import record_events
from notifier.templating import email_environment
from tests.pipeline_helpers import DYGN, add_user, event_body, outbox
from tests.test_sender import Blocking, queue_event, queued, sender

__all__ = ["queued"]  # the fixture

LEASE = timedelta(seconds=0.4)


async def test_a_delivery_longer_than_the_lease_keeps_its_claim(queued: AsyncEngine) -> None:
    slow = Blocking()
    first = asyncio.create_task(sender(queued, slow, lease=LEASE).send_batch())
    await asyncio.wait_for(slow.started.wait(), timeout=10)
    await asyncio.sleep(3 * LEASE.total_seconds())  # renewed meanwhile
    assert await sender(queued, Blocking(), lease=LEASE).send_batch() == 0
    slow.release.set()
    assert await asyncio.wait_for(first, timeout=10) == 2


class Dies:
    """Accepts a batch and never returns: its sender was killed mid-delivery."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.started = asyncio.Event()

    async def deliver(self, messages: list[Claimed], files: Files | None = None) -> Results:
        self.seen += [m.message_id for m in messages]
        self.started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_dead_senders_rows_are_sent_again_after_one_lease_with_the_same_message_id(
    queued: AsyncEngine, tmp_path: Path
) -> None:
    dying = Dies()
    crashed = asyncio.create_task(sender(queued, dying, lease=LEASE).send_batch())
    await asyncio.wait_for(dying.started.wait(), timeout=10)
    crashed.cancel()  # the process is gone: no renewal, no record
    survivor = sender(queued, FileChannel(tmp_path, "x@example.se"), lease=LEASE)
    assert await survivor.send_batch() == 0  # still leased

    await asyncio.sleep(LEASE.total_seconds() + 0.1)
    assert await survivor.send_batch() == 2
    rows = await outbox(queued)
    assert {row.status for row in rows} == {"sent"}
    assert sorted(row.message_id for row in rows) == sorted(dying.seen)


async def test_a_stopped_sender_gives_its_rows_back_due_at_once_with_the_same_message_id(
    queued: AsyncEngine, tmp_path: Path
) -> None:
    """SIGTERM or the app's shutdown cancels `run`: the next sender need not wait out the
    lease (a minute here) for the rows the stopped one held."""
    stopped = Dies()
    running = asyncio.create_task(sender(queued, stopped, lease=timedelta(minutes=1)).run())
    await asyncio.wait_for(stopped.started.wait(), timeout=10)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)

    survivor = sender(queued, FileChannel(tmp_path, "x@example.se"))
    assert await survivor.send_batch() == 2
    rows = await outbox(queued)
    assert {row.status for row in rows} == {"sent"}
    assert sorted(row.message_id for row in rows) == sorted(stopped.seen)


async def test_stop_finishes_the_batch_in_hand_claims_no_more_and_ends_run(
    queued: AsyncEngine,
) -> None:
    slow = Blocking()
    stopping = sender(queued, slow)
    running = asyncio.create_task(stopping.run())
    await asyncio.wait_for(slow.started.wait(), timeout=10)
    stop = asyncio.create_task(stopping.stop())
    await asyncio.sleep(0.2)
    assert not stop.done()  # the batch in hand is still with the server
    await queue_event(queued, id="22222222-2222-4222-8222-222222222222")
    slow.release.set()
    await asyncio.wait_for(stop, timeout=10)
    assert running.done() and running.exception() is None
    rows = await outbox(queued)
    assert [row.status for row in rows] == ["sent", "sent", "pending", "pending"]
    assert [row.attempts for row in rows] == [1, 1, 0, 0]  # nothing claimed after the stop


async def test_a_stopped_sender_leaves_a_row_claimed_again_since_to_its_new_owner(
    queued: AsyncEngine,
) -> None:
    """Rows whose lease ran out and that another sender claimed since are that sender's:
    giving back what a stopped sender held (here only after that) changes nothing."""
    dying = Dies()
    stale = sender(queued, dying, lease=LEASE)
    batch = asyncio.create_task(stale.send_batch())
    await asyncio.wait_for(dying.started.wait(), timeout=10)
    batch.cancel()  # no renewal from here on; the rows stay in what it holds
    await asyncio.gather(batch, return_exceptions=True)
    await asyncio.sleep(LEASE.total_seconds() + 0.1)
    owner = Blocking()
    taking = asyncio.create_task(sender(queued, owner, lease=timedelta(minutes=1)).send_batch())
    await asyncio.wait_for(owner.started.wait(), timeout=10)

    await stale._held.give_back()
    assert await sender(queued, Blocking()).send_batch() == 0  # still the owner's
    owner.release.set()
    assert await asyncio.wait_for(taking, timeout=10) == 2


class Counting(Renderer):
    calls = 0

    def render(self, event: Event, **options: Any) -> Email:
        self.calls += 1
        return super().render(event, **options)


async def test_each_event_is_rendered_once_per_permission_level(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with db.sessionmaker(engine)() as session:
        for index in range(3):
            await add_user(session, f"full-{index}", grants={DYGN: "full"})
            await add_user(session, f"summary-{index}", grants={DYGN: "summary"})
        event = Event.model_validate(event_body())
        await session.commit()
    async with db.sessionmaker(engine)() as session:
        await record_events(session=session, events=[event], now=utcnow())
        await session.commit()
    counting = Counting(
        email_environment(),
        eservice_url=None,
        unsubscribe_url=placeholder_links,
        preferences_url=placeholder_preferences,
    )
    steps = NotificationSteps(
        counting,
        lambda user, _: f"http://localhost:8000/unsubscribe/{user}",
        lambda user: f"http://localhost:8000/mina-notifieringar/{user}",
    )
    run = sender(engine, FileChannel(tmp_path, "x@example.se"), kinds={"notification": steps})

    assert await run.send_batch() == 6
    assert counting.calls == 2
    texts = [path.read_text() for path in sorted(tmp_path.glob("*.eml"))]  # noqa: ASYNC240
    assert all("/unsubscribe/" in text for text in texts)
    assert len({text.split("/unsubscribe/")[1][:9] for text in texts}) == 6  # each their own


class Holding:
    """Holds its batch until released, then answers `outcome` for every message: a sender
    whose delivery outlived its lease (renewals failing through a database failover)."""

    def __init__(self, outcome: Exception | None) -> None:
        self.outcome = outcome
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def deliver(self, messages: list[Claimed], files: Files | None = None) -> Results:
        self.started.set()
        await asyncio.wait_for(self.release.wait(), timeout=10)
        return dict.fromkeys((m.id for m in messages), self.outcome)


def next_owner(engine: AsyncEngine, channel: Any, **options: Any) -> Any:
    """A second sender that finds the rows due: the first one's lease has run out."""
    later = utcnow() + timedelta(hours=1)
    return sender(engine, channel, lease=LEASE, clock=lambda: later, **options)


async def stale(engine: AsyncEngine, outcome: Exception | None) -> tuple[Holding, Any]:
    holding = Holding(outcome)
    task = asyncio.create_task(sender(engine, holding, lease=LEASE).send_batch())
    await asyncio.wait_for(holding.started.wait(), timeout=10)
    return holding, task


async def test_a_stale_senders_failure_never_turns_a_delivered_row_failed(
    queued: AsyncEngine, tmp_path: Path
) -> None:
    holding, first = await stale(queued, PermanentDeliveryError("550 too late"))
    assert await next_owner(queued, FileChannel(tmp_path, "x@example.se")).send_batch() == 2
    holding.release.set()
    await asyncio.wait_for(first, timeout=10)
    rows = await outbox(queued)
    assert {(row.status, row.last_error) for row in rows} == {("sent", None)}


async def test_a_stale_sender_neither_renews_nor_records_over_the_next_owners_retry(
    queued: AsyncEngine,
) -> None:
    holding, first = await stale(queued, PermanentDeliveryError("550 too late"))
    waiting = RetryPolicy(max_attempts=5, base=600, cap=600)
    retry = next_owner(queued, Holding(TransientDeliveryError("421 busy")), policy=waiting)
    retry._channels["email"].release.set()
    assert await retry.send_batch() == 2
    before = {row.id: (row.next_attempt_at, row.last_error) for row in await outbox(queued)}
    await asyncio.sleep(3 * LEASE.total_seconds())  # the stale sender's renewals run
    assert {row.id: (row.next_attempt_at, row.last_error) for row in await outbox(queued)} == before
    holding.release.set()
    await asyncio.wait_for(first, timeout=10)
    rows = await outbox(queued)
    assert {row.status for row in rows} == {"pending"}
    assert {row.id: (row.next_attempt_at, row.last_error) for row in rows} == before
    assert all("421 busy" in (error or "") for _, error in before.values())


async def test_a_stale_senders_delivery_is_recorded_over_the_next_owners_failure(
    queued: AsyncEngine,
) -> None:
    holding, first = await stale(queued, None)
    refusing = Holding(PermanentDeliveryError("550 no such user"))
    refusing.release.set()
    assert await next_owner(queued, refusing).send_batch() == 2
    assert {row.status for row in await outbox(queued)} == {"failed"}
    holding.release.set()
    await asyncio.wait_for(first, timeout=10)
    rows = await outbox(queued)
    assert {(row.status, row.last_error) for row in rows} == {("sent", None)}
