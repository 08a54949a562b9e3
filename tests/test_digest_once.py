"""A digest's items are shown once: recorded sent in the transaction that records their
digest sent, bounded by the digest's cutoff, and the day it tells of is local to
NOTIFIER_DIGEST_ZONE."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier.compose import Services, build_services, kinds
from notifier.kinds import Prepared, Steps
from notifier.outbox.digest_rows import create_digests
from notifier.outbox.models import Claimed, OutboxKind, OutboxMessage, OutboxStatus
from notifier.settings import Settings
from notifier.workers.sender import Sender
from tests.pipeline_helpers import event_body, outbox
from tests.test_digest import DAY, Capture, daily_user, events

CUTOFF = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 07:00 in Stockholm


class FailsAfterDelivery:
    """A digest whose bookkeeping after delivery fails (its transaction lost in a
    database failover, or the process gone before it ran)."""

    def __init__(self, steps: Steps) -> None:
        self._steps = steps

    async def prepare(self, session: AsyncSession, rows: list[Claimed], prepared: Prepared) -> None:
        await self._steps.prepare(session, rows, prepared)

    async def after_delivery(self, session: AsyncSession, rows: list[Claimed]) -> None:
        await self._steps.after_delivery(session, rows)
        raise ConnectionResetError("the database went away")


async def send_all(services: Services, **replace: Steps) -> list[OutboxMessage]:
    channel = Capture()
    run = Sender(
        sessions=services.sessions, channels={"email": channel}, kinds=kinds(services) | replace
    )
    while await run.send_batch():
        pass
    return channel.sent


async def date_items(services: Services, *moments: datetime) -> None:
    """Date the held items, in id order, as if the consumer had stored them then."""
    async with services.sessions() as session:
        held = await session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.status == "held")
            .order_by(col(OutboxMessage.id))
        )
        for row, moment in zip(held.all(), moments, strict=True):
            row.created_at = moment
        await session.commit()


async def test_the_items_a_digest_showed_are_sent_with_it_whatever_fails_after(
    services: Services, engine: AsyncEngine
) -> None:
    await daily_user(engine, "anna")
    await events(engine, event_body(), event_body())
    now = utcnow()
    await create_digests(services.sessions, now=now, day=DAY, cutoff=now)
    failing = FailsAfterDelivery(kinds(services)[OutboxKind.DIGEST])
    assert len(await send_all(services, **{OutboxKind.DIGEST: failing})) == 1
    assert {row.status for row in await outbox(engine)} == {OutboxStatus.SENT}
    tomorrow = now + timedelta(days=1)
    made = await create_digests(
        services.sessions, now=tomorrow, day=DAY + timedelta(days=1), cutoff=tomorrow
    )
    assert made == 0 and await send_all(services) == []  # never shown twice


async def test_a_digest_shows_the_items_held_before_its_cutoff_only(
    services: Services, engine: AsyncEngine
) -> None:
    await daily_user(engine, "anna")
    await events(engine, event_body(), event_body())
    await date_items(services, CUTOFF - timedelta(hours=1), CUTOFF + timedelta(hours=1))
    late = CUTOFF + timedelta(hours=3)  # the digest clock ran late (a restart at 10:00)
    assert await create_digests(services.sessions, now=late, day=DAY, cutoff=CUTOFF) == 1
    [digest] = await send_all(services)
    assert digest.subject is not None and " en händelse " in digest.subject
    rows = await outbox(engine)
    held = [row for row in rows if row.status == OutboxStatus.HELD]
    assert [row.created_at for row in held] == [CUTOFF + timedelta(hours=1)]  # tomorrow's


async def test_the_day_a_digest_tells_of_is_local_to_the_configured_zone(
    settings: Settings, engine: AsyncEngine
) -> None:
    new_york = build_services(
        settings.model_copy(update={"digest_zone": "America/New_York"}), engine
    )
    await daily_user(engine, "anna")
    await events(engine, event_body())
    evening = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 22:00 on the 26th in New York
    await date_items(new_york, evening - timedelta(hours=1))
    await create_digests(new_york.sessions, now=evening, day=DAY, cutoff=evening)
    [digest] = await send_all(new_york)
    assert digest.subject is not None and "26 november 2026" in digest.subject
