"""What an operator does, each with its audit entry in the same transaction, for the API
and the pages alike. Each commits: it is one request's whole work."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import PermissionLevel
from notifier.console import announcements as news
from notifier.console import audit, failures, letters, sends
from notifier.console.access import Operator
from notifier.console.models import Announcement
from notifier.console.state import ConsoleWeb
from subscriptions import suppressions
from subscriptions.suppressions import Lifted


async def retry(
    session: AsyncSession,
    console: ConsoleWeb,
    me: Operator,
    *,
    row_id: int | None = None,
    reason: str | None = None,
) -> int:
    count = await failures.retry(session=session, now=console.now(), row_id=row_id, reason=reason)
    if count == 0:
        return 0  # nothing done, nothing to audit
    target = str(row_id) if row_id is not None else "orsak"
    await audit.record(
        session=session, actor=me.actor, action="failures.retry", target=target, count=count
    )
    await session.commit()
    console.wake.set()  # a sender in this process starts at once
    return count


async def replay(session: AsyncSession, console: ConsoleWeb, me: Operator, key: str | None) -> int:
    """One letter (`key`) or all; how many went back onto the exchange."""
    url, topology = console.amqp_url, console.topology
    if key is None:
        count = await letters.replay_all(url, topology)
    else:
        count = int(await letters.replay_one(url, topology, key))
    if count or key is None:
        await audit.record(
            session=session,
            actor=me.actor,
            action="dead_letters.replay",
            target=key or "alla",
            count=count,
        )
        await session.commit()
    return count


async def discard(session: AsyncSession, console: ConsoleWeb, me: Operator, key: str) -> bool:
    if not await letters.discard_one(console.amqp_url, console.topology, key):
        return False
    await audit.record(session=session, actor=me.actor, action="dead_letters.discard", target=key)
    await session.commit()
    return True


async def lift_suppression(
    session: AsyncSession, console: ConsoleWeb, me: Operator, email: str
) -> bool:
    """Mail the address again; False if it was not suppressed. The audit names the
    suppression, whose row keeps the address for the retention period."""
    found = (await suppressions.active(session=session, emails=[email])).get(
        suppressions.normal(email)
    )
    if found is None:
        return False
    await suppressions.lift(session=session, email=email, by=Lifted.OPERATOR, now=console.now())
    await audit.record(
        session=session,
        actor=me.actor,
        action="suppressions.lift",
        target=str(found.id),
        status=found.status,
    )
    await session.commit()
    return True


async def test_send(
    session: AsyncSession,
    console: ConsoleWeb,
    me: Operator,
    *,
    name: str,
    level: PermissionLevel,
    to: str,
) -> str:
    """The test's Message-ID; raises sends.NotATestAddress for a user's address."""
    row = await sends.queue_test(
        session=session, previews=console.previews, name=name, level=level, to=to
    )
    await audit.record(
        session=session, actor=me.actor, action="templates.test", target=name, level=level
    )
    await session.commit()
    console.wake.set()
    return row.message_id


async def create_announcement(
    session: AsyncSession, console: ConsoleWeb, me: Operator, announcement: Announcement
) -> Announcement:
    """Gives it an id and its author, counts its recipients and keeps it; the caller sends
    it if it is due now."""
    announcement.id = str(uuid.uuid4())
    announcement.created_by, announcement.created_at = me.actor, console.now()
    announcement.recipients = await news.count_recipients(
        session=session, announcement=announcement
    )
    session.add(announcement)
    await audit.record(
        session=session, actor=me.actor, action="announcements.create", target=announcement.id
    )
    await session.commit()
    return announcement


async def send_announcement(console: ConsoleWeb, me: Operator, announcement_id: str) -> bool:
    """In a transaction of its own; False: gone already. A broker away raises, and the
    announcement stays scheduled (the scheduler's next round sends it)."""
    async with console.sessions() as session:
        announcement = await session.get(Announcement, announcement_id)
        if announcement is None:
            return False
        sent = await news.send(
            session=session, announcement=announcement, publish=console.publish, now=console.now()
        )
        if sent:
            await audit.record(
                session=session, actor=me.actor, action="announcements.send", target=announcement_id
            )
            await session.commit()
        return sent


async def cancel_announcement(
    session: AsyncSession, me: Operator, announcement: Announcement
) -> None:
    """Raises announcements.AlreadySent once it has gone."""
    await news.cancel(session=session, announcement=announcement)
    await audit.record(
        session=session, actor=me.actor, action="announcements.cancel", target=announcement.id
    )
    await session.commit()
