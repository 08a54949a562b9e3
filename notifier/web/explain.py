"""GET /api/v1/users/{user_id}/events/{event_id}/explanation: why a user did or did not
get the email for an event, for the e-service's support and operators (admin token).

What happened is read from the record (the processed event and the user's outbox row);
the rule-by-rule checks are run against the user's subscriptions and grants as they stand
now, which is what an operator can change."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.swedish import SWEDISH_TIME
from domain.text import SINGLE_LINE_PATTERN
from domain.web import SessionDep, gated, refusals
from notifier.outbox.events import parse_payload
from notifier.outbox.message_ids import message_id
from notifier.outbox.models import OutboxMessage, OutboxStatus, ProcessedEvent
from notifier.outbox.record import target
from subscriptions.explain import explain, load_user_state
from subscriptions.suppressions import Reason, Suppression, normal


class CheckOut(BaseModel):
    rule: str
    passed: bool
    detail: str


class EmailOut(BaseModel):
    status: str
    attempts: int
    level: str | None
    last_error: str | None
    sent_at: datetime | None
    message_id: str


class Explanation(BaseModel):
    user_id: str
    event_id: str
    received: bool
    event_type: str | None = None
    processed_at: datetime | None = None
    email: EmailOut | None = None
    summary: str
    checks_now: list[CheckOut] = []


_routes = APIRouter(tags=["admin"], responses=refusals(404))


def build_router(*, require_admin: Callable[..., Any]) -> APIRouter:
    """The explanation endpoint behind the composition root's admin check."""
    return gated(require_admin, _routes)


@_routes.get("/users/{user_id}/events/{event_id}/explanation")
async def explanation(
    user_id: Annotated[str, Path(max_length=128, pattern=SINGLE_LINE_PATTERN)],
    event_id: Annotated[str, Path(max_length=36, pattern=SINGLE_LINE_PATTERN)],
    session: SessionDep,
) -> Explanation:
    found = await explain_delivery(session, user_id, event_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, USER_MISSING)
    return found


USER_MISSING = "Användaren finns inte."


async def explain_delivery(
    session: AsyncSession, user_id: str, event_id: str
) -> Explanation | None:
    """Why `user_id` did or did not get the email of `event_id`; None: no such user.
    The API's, the console's and `notifier explain`'s answer."""
    state = await load_user_state(session=session, user_id=user_id)
    if state is None:
        return None
    event_id = event_id.lower()  # the consumer keeps ids in canonical form
    processed = await session.get(ProcessedEvent, event_id)
    if processed is None:
        return Explanation(user_id=user_id, event_id=event_id, received=False, summary=NOT_RECEIVED)
    row = await outbox_row(session, event_id, user_id)
    checks = explain(target(parse_payload(processed.payload)), state)
    return Explanation(
        user_id=user_id,
        event_id=event_id,
        received=True,
        event_type=processed.event_type,
        processed_at=processed.processed_at,
        email=EmailOut.model_validate(row, from_attributes=True) if row else None,
        summary=summary(row, processed, await suppression_of(session, row)),
        checks_now=[CheckOut(rule=c.rule, passed=c.passed, detail=c.detail) for c in checks],
    )


async def outbox_row(session: AsyncSession, event_id: str, user_id: str) -> OutboxMessage | None:
    """The user's email for the event, if one was put in the outbox."""
    query = select(OutboxMessage).where(OutboxMessage.message_id == message_id(event_id, user_id))
    return (await session.exec(query)).first()


async def suppression_of(session: AsyncSession, row: OutboxMessage | None) -> Suppression | None:
    """The latest suppression of a suppressed row's address (it may be lifted since)."""
    if row is None or row.status != OutboxStatus.SUPPRESSED or not row.recipient:
        return None
    query = (
        select(Suppression)
        .where(Suppression.email == normal(row.recipient))
        .where(col(Suppression.since) <= row.next_attempt_at)
        .order_by(col(Suppression.since).desc())
    )
    return (await session.exec(query)).first()


def suppressed(found: Suppression | None, row: OutboxMessage) -> str:
    if found is None:
        return f"Mejlet skickades inte: adressen var spärrad. {row.last_error or ''}".strip()
    cause = "en studs" if found.reason == Reason.HARD else "upprepade tillfälliga studsar"
    text = (
        f"Mejlet skickades inte: adressen är spärrad sedan {_local(found.since)}, "
        f"efter {cause} med status {found.status} ({found.diagnostic})."
    )
    if found.lifted_at is not None:
        text += f" Spärren hävdes {_local(found.lifted_at)}."
    return text


def _local(moment: datetime) -> str:
    """'2026-11-26 19.44 (svensk tid)'; a naive time from SQLite is UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{aware.astimezone(SWEDISH_TIME):%Y-%m-%d %H.%M} (svensk tid)"


NOT_RECEIVED = (
    "Händelsen har inte behandlats: den har inte kommit fram, eller lades bland dead letters "
    "(se `notifier dead-letters list`)."
)


def summary(
    row: OutboxMessage | None, processed: ProcessedEvent, found: Suppression | None = None
) -> str:
    """In Swedish time, as the desk and every page show times to people."""
    if row is None:
        at = _local(processed.processed_at)
        return (
            f"Användaren matchades inte när händelsen behandlades {at}; "
            "kontrollerna nedan visar hur reglerna utfaller i dag."
        )
    if row.status == OutboxStatus.SENT and row.sent_at:
        return f"Mejlet skickades {_local(row.sent_at)}."
    if row.status == OutboxStatus.SUPPRESSED:
        return suppressed(found, row)
    if row.status == OutboxStatus.BOUNCED:
        return f"Mejlet skickades men studsade tillbaka: {row.last_error}"
    if row.status == OutboxStatus.FAILED:
        return f"Mejlet kunde inte levereras: {row.last_error}"
    if row.status == OutboxStatus.CANCELLED:
        return f"Mejlet stoppades innan det skickades: {row.last_error}"
    retry = f" Senaste fel: {row.last_error}" if row.last_error else ""
    return f"Mejlet väntar på att skickas ({row.attempts} försök hittills).{retry}"
