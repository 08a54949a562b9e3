"""The rows a sender has claimed and not yet recorded, and their return when it stops.

A sender whose `run` is cancelled (a stop that outlasted its grace) gives them back, due
again at once, so that the next sender takes them without waiting out the lease. One
that dies leaves them to the lease. Either way a message the server took but
that was not yet recorded is sent again under its Message-ID.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.outbox.claim import renewing
from notifier.outbox.models import Claimed

log = logging.getLogger(__name__)
# How long a stopping sender tries before it leaves the rows to their lease.
GIVE_BACK_WAIT = 3.0


class Held:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._rows: dict[int, Claimed] = {}

    def add(self, rows: Iterable[Claimed]) -> None:
        self._rows.update((row.id, row) for row in rows)

    def forget(self, rows: Iterable[Claimed]) -> None:
        for row in rows:
            self._rows.pop(row.id, None)

    async def give_back(self) -> None:
        """Make the rows still held due now, where the claim is still this sender's (a
        row claimed again since is another's). While the database does not answer, the
        lease gives them back instead."""
        rows = list(self._rows.values())
        if not rows:
            return
        try:
            async with asyncio.timeout(GIVE_BACK_WAIT), self._sessions() as session:
                await session.exec(renewing(rows, self._clock()))
                await session.commit()
        except Exception as exc:
            log.warning("stopping: %d claimed row(s) left to their lease (%r)", len(rows), exc)
        else:
            self.forget(rows)
            log.info("stopping: %d claimed row(s) given back", len(rows))
