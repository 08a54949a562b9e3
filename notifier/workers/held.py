"""The rows a sender has claimed and not yet recorded: their lease renewed while their
batch is delivered, and their return when the sender stops.

A sender whose `run` is cancelled (a stop that outlasted its grace) gives them back, due
again at once, so that the next sender takes them without waiting out the lease. One
that dies leaves them to the lease. Either way a message the server took but
that was not yet recorded is sent again under its Message-ID.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.outbox.claim import renewing
from notifier.outbox.models import Claimed

log = logging.getLogger(__name__)
# How long a stopping sender tries before it leaves the rows to their lease.
GIVE_BACK_WAIT = 3.0


class Held:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        lease: timedelta,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._lease = lease
        self._rows: dict[int, Claimed] = {}

    def add(self, rows: Iterable[Claimed]) -> None:
        self._rows.update((row.id, row) for row in rows)

    def forget(self, rows: Iterable[Claimed]) -> None:
        for row in rows:
            self._rows.pop(row.id, None)

    @contextlib.asynccontextmanager
    async def renewed(self, rows: list[Claimed]) -> AsyncIterator[None]:
        """The claim on `rows` kept while the block runs (their batch is delivered)."""
        renewing = asyncio.create_task(self._renew(rows))
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _renew(self, rows: list[Claimed]) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 4)
            try:
                async with self._sessions() as session:
                    await session.exec(renewing(rows, self._clock() + self._lease))
                    await session.commit()
            except Exception:
                log.exception("could not renew the lease of %d rows", len(rows))

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
