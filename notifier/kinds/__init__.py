"""The outbox kinds: what each kind of message needs before and after delivery.

The sender is the same loop for every kind: claim → prepare by kind → deliver by channel
→ record → after delivery by kind. A kind's steps are where its own logic lives:
notifications are rendered from their stored event (and cancelled when their user is
gone), ticket forwards carry the ticket's screenshots and mark the ticket forwarded.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.channels.base import FileAttachment
from notifier.outbox.models import Claimed, OutboxKind

__all__ = ["OutboxKind", "Prepared", "Ready", "Steps"]


@dataclass
class Prepared:
    """What the prepare steps found for a claimed batch, beside the rows themselves."""

    failures: dict[int, Exception] = field(default_factory=dict)  # not to be delivered
    files: dict[int, Sequence[FileAttachment]] = field(default_factory=dict)
    # Per row, the held rows it delivers with it (a digest's items): recorded sent in the
    # transaction that records the row sent, so that neither is without the other.
    carried: dict[int, list[int]] = field(default_factory=dict)


class Steps(Protocol):
    async def prepare(self, session: AsyncSession, rows: list[Claimed], prepared: Prepared) -> None:
        """In the claim's transaction: make `rows` ready to deliver (in memory), cancel
        those that can no longer be sent, name those that cannot be delivered."""
        ...

    async def after_delivery(self, session: AsyncSession, rows: list[Claimed]) -> None:
        """After the outcome is recorded, in a transaction of its own: what this kind
        records about the rows that were delivered."""
        ...


class Ready:
    """A kind whose rows are queued complete: nothing before or after delivery."""

    async def prepare(self, session: AsyncSession, rows: list[Claimed], prepared: Prepared) -> None:
        return None

    async def after_delivery(self, session: AsyncSession, rows: list[Claimed]) -> None:
        return None
