"""Turning a batch of events into outbox rows, inside the caller's transaction.

Per batch: one query for the event ids already processed, one matching query, and one
multi-row insert per table. Emails are rendered at send time from the stored event and the
row's grant level, which keeps this, the hot path of a payment run, to plain inserts.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.events import Event
from notifier.models import OutboxMessage, OutboxStatus, ProcessedEvent
from subscriptions.matching import Recipient, Target, by_organisation, load_candidates, recipients

KIND = "notification"
# The tables themselves: a Core insert skips the ORM's per-row bookkeeping (hot path).
PROCESSED_TABLE = ProcessedEvent.metadata.tables[ProcessedEvent.__tablename__]
OUTBOX_TABLE = OutboxMessage.metadata.tables[OutboxMessage.__tablename__]
MESSAGE_ID_DOMAIN = "statlig-ersattning.invalid"


@dataclass(frozen=True, slots=True)
class Recorded:
    events: int  # newly processed
    duplicates: int  # already processed, or twice in this batch
    messages: int  # outbox rows added


def message_id(event_id: str, user_id: str) -> str:
    """The same Message-ID for the same (event, user) every time, naming neither the user
    nor anything of the event but its id."""
    user_hash = hashlib.sha256(user_id.encode()).hexdigest()[:20]
    return f"<{event_id}.{user_hash}@{MESSAGE_ID_DOMAIN}>"


def target(event: Event) -> Target:
    org = event.organisation
    return Target(
        event_type=event.event_type,
        organisation=(org.kind.value, org.code) if org else None,
        compensation_type=event.compensation_type,
        announcement_types=tuple(event.announcement.compensation_types)
        if event.announcement
        else (),
    )


async def record_events(*, session: AsyncSession, events: list[Event], now: datetime) -> Recorded:
    """Add the processed-event rows and one outbox row per recipient; never commits."""
    unique = {event.id: event for event in reversed(events)}  # the first copy wins
    done = set(
        await session.exec(
            select(ProcessedEvent.event_id).where(col(ProcessedEvent.event_id).in_(list(unique)))
        )
    )
    new = [event for event_id, event in unique.items() if event_id not in done]
    targets = [target(event) for event in new]
    candidates = await load_candidates(session=session, targets=targets)
    grouped = by_organisation(candidates)
    processed: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for event, tgt in zip(new, targets, strict=True):
        pool = candidates if tgt.organisation is None else grouped.get(tgt.organisation, [])
        found = recipients(tgt, pool)
        processed.append(_processed_row(event, len(found), now))
        messages += [_outbox_row(event, r, now) for r in found]
    if processed:
        await session.exec(insert(PROCESSED_TABLE), params=processed)
    if messages:
        await session.exec(insert(OUTBOX_TABLE), params=messages)
    return Recorded(len(new), len(events) - len(new), len(messages))


def _processed_row(event: Event, count: int, now: datetime) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "event_type": event.event_type,
        "payload": event.model_dump(mode="json", exclude_none=True),
        "recipients": count,
        "processed_at": now,
    }


def _outbox_row(event: Event, recipient: Recipient, now: datetime) -> dict[str, Any]:
    # Bulk inserts skip the model's Python defaults, so every column is given here.
    return {
        "message_id": message_id(event.id, recipient.user_id),
        "channel": "email",
        "kind": KIND,
        "event_id": event.id,
        "user_id": recipient.user_id,
        "ticket_id": None,
        "recipient": recipient.email,
        "level": recipient.level.value if recipient.level else None,
        "subject": None,
        "body_text": None,
        "body_html": None,
        "headers": {},
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": None,
        "created_at": now,
        "sent_at": None,
    }
