"""The mailbox of bounces: `bounce+<token>@<reply domain>`, every email's return path
(notifier.channels.return_path). RCPT: a token that does not verify gets 550. DATA: a
bounce (notifier.inbound.dsn) is recorded on the outbox row the token names and counted
against its address; a hard one, or too many soft ones, suppresses the address and tells
the e-service (notifier.outbox.undeliverable). Anything else that arrives here (an
out-of-office, a delivery notice) is taken and dropped, not stored.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier.channels.return_path import ReturnPath
from notifier.inbound import dsn
from notifier.outbox import undeliverable
from notifier.outbox.models import OutboxMessage, OutboxStatus
from subscriptions import suppressions

log = logging.getLogger(__name__)


@dataclass
class Bounces:
    sessions: async_sessionmaker[AsyncSession]
    return_path: ReturnPath
    soft_limit: int
    soft_window: timedelta
    clock: Callable[[], datetime] = field(default=utcnow)
    name = "bounces"

    async def accept(self, address: str) -> str | None:
        row = self.return_path.row_of(address)
        return None if row is None else str(row)

    async def deliver(self, message: EmailMessage, keys: list[str], mail_from: str) -> str:
        bounce = dsn.read(message, mail_from)
        if bounce is None:
            log.info("inbound: dropped a message to a bounce address that reports no bounce")
            return "250 OK: not a bounce, dropped"
        async with self.sessions() as db:
            for row_id in sorted({int(key) for key in keys}):
                await self.record(db, row_id, bounce)
            await db.commit()
        return "250 OK: bounce recorded"

    async def record(self, db: AsyncSession, row_id: int, bounce: dsn.Bounce) -> None:
        row = await db.get(OutboxMessage, row_id)
        if row is None or not row.recipient:  # gone, or purged by retention
            log.info("inbound: a bounce for outbox row %d, which has no address now", row_id)
            return
        kind = "hard" if bounce.hard else "soft"
        if bounce.hard and row.status == OutboxStatus.SENT:
            row.status = OutboxStatus.BOUNCED
        row.last_error = f"{kind} bounce, status {bounce.status}: {bounce.diagnostic}"
        db.add(row)
        suppression = await suppressions.record_bounce(
            session=db,
            email=row.recipient,
            hard=bounce.hard,
            status=bounce.status,
            diagnostic=bounce.diagnostic,
            outbox_id=row_id,
            soft_limit=self.soft_limit,
            soft_window=self.soft_window,
            now=self.clock(),
        )
        log.info("inbound: a %s bounce (%s) for outbox row %d", kind, bounce.status, row_id)
        if suppression is not None:
            await undeliverable.enqueue(session=db, suppression=suppression)
            log.info("inbound: suppression %d starts after outbox row %d", suppression.id, row_id)
