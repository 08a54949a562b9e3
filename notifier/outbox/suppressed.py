"""At send time, the rows to a suppressed address are recorded `suppressed` and never
handed to the relay: a row queued before its address bounced is caught too.

Exempt: ticket forwards (to Migrationsverket's own mailboxes) and answers to a ticket
(the person gave us the address with the question, just now). Every other email (a
notification, a digest) to a suppressed address waits for the suppression to be lifted.
"""

from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.outbox.models import Claimed, OutboxKind, OutboxStatus
from subscriptions import suppressions
from subscriptions.suppressions import Reason, Suppression

EXEMPT = frozenset({OutboxKind.TICKET, OutboxKind.TICKET_ANSWER})


async def screen(session: AsyncSession, rows: list[Claimed]) -> None:
    """Mark the claimed rows whose address is suppressed (in memory; the sender writes
    the decision back with the rest of the claim)."""
    candidates = [
        row
        for row in rows
        if row.channel == "email" and row.kind not in EXEMPT and row.status == OutboxStatus.PENDING
    ]
    if not candidates:
        return
    found = await suppressions.active(session=session, emails=(r.recipient for r in candidates))
    for row in candidates:
        if (suppression := found.get(suppressions.normal(row.recipient))) is not None:
            row.status = OutboxStatus.SUPPRESSED
            row.last_error = why(suppression)


def why(suppression: Suppression) -> str:
    cause = "a hard bounce" if suppression.reason == Reason.HARD else "repeated soft bounces"
    return (
        f"suppressed since {suppression.since:%Y-%m-%d %H:%M} UTC after {cause} with status "
        f"{suppression.status}: {suppression.diagnostic}"
    )[:2000]
