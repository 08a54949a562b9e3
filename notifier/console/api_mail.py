"""The console's API of what happened to emails: deliveries (with the explanation for a
user and an event), failures and their retry, dead letters, the overview and the audit
trail. Operators (or the admin token) only; every action is audited."""

from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from aio_pika.exceptions import AMQPError
from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, Field

from domain.text import SINGLE_LINE_PATTERN, SingleLine
from domain.web import SessionDep, refusals
from notifier.console import actions, audit, deliveries, failures, letters, overview
from notifier.console.access import OperatorDep
from notifier.console.state import ConsoleDep
from notifier.web.explain import Explanation, explain_delivery
from notifier.workers.broker import ClassicDeadLetterQueue

BROKER_AWAY = "RabbitMQ svarar inte just nu; försök igen om en stund."
NO_LETTER = "Meddelandet finns inte bland dead letters (längre)."

T = TypeVar("T")
router = APIRouter(tags=["operators"], responses=refusals(401, 403, 404))
Searched = Annotated[str | None, Query(max_length=320, pattern=SINGLE_LINE_PATTERN)]


class DeliveriesOut(BaseModel):
    deliveries: list[deliveries.Delivery]
    explanation: Explanation | None = None


@router.get("/deliveries")
async def find_deliveries(
    session: SessionDep,
    me: OperatorDep,
    email: Searched = None,
    user_id: Searched = None,
    diarienummer: Searched = None,
    event_id: Searched = None,
    reference: Searched = None,
) -> DeliveriesOut:
    """Each email found by every criterion given, newest first (none given: none found);
    with a user and an event, also why that user did or did not get that event's email."""
    found = await deliveries.find(
        session=session,
        email=email,
        user_id=user_id,
        diarienummer=diarienummer,
        event_id=event_id,
        reference=reference,
    )
    why = None
    if user_id and event_id:
        why = await explain_delivery(session=session, user_id=user_id, event_id=event_id)
    return DeliveriesOut(deliveries=found, explanation=why)


@router.get("/failures")
async def failed(session: SessionDep, me: OperatorDep) -> list[dict[str, Any]]:
    """Failed emails grouped by reason, the largest group first."""
    groups = await failures.failed_groups(session=session)
    return [
        {"reason": g.reason, "count": g.count, "latest": g.latest, "emails": g.rows} for g in groups
    ]


class RetryIn(BaseModel):
    reason: Annotated[str, Field(max_length=10_000), SingleLine]


@router.post("/failures/retry")
async def retry_reason(
    body: RetryIn, session: SessionDep, console: ConsoleDep, me: OperatorDep
) -> dict[str, int]:
    """Every failed email of a reason: due again, through the outbox."""
    return {"retried": await actions.retry(session, console, me, reason=body.reason)}


@router.post("/failures/{email_id}/retry")
async def retry_one(
    email_id: Annotated[int, Path(ge=1, le=2**31 - 1)],  # the outbox id's range
    session: SessionDep,
    console: ConsoleDep,
    me: OperatorDep,
) -> dict[str, int]:
    """One failed email: due again, through the outbox."""
    if not await actions.retry(session, console, me, row_id=email_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Inget misslyckat mejl med det id:t.")
    return {"retried": 1}


@router.get("/dead-letters", responses=refusals(503))
async def dead_letters(console: ConsoleDep, me: OperatorDep) -> list[dict[str, Any]]:
    found = await _broker(letters.peek(console.amqp_url, console.topology))
    return [
        {
            "key": one.key,
            "reason": one.about.reason,
            "event_id": one.about.event_id,
            "at": one.about.at,
            "routing_key": one.about.routing_key,
            "body": one.body,
        }
        for one in found
    ]


class ReplayIn(BaseModel):
    key: Annotated[str, Field(max_length=64), SingleLine] | None = None  # None: all


@router.post("/dead-letters/replay", responses=refusals(503))
async def replay(
    body: ReplayIn, session: SessionDep, console: ConsoleDep, me: OperatorDep
) -> dict[str, int]:
    """Back onto the exchange under its original routing key: one (`key`) or all."""
    count = await _broker(actions.replay(session, console, me, body.key))
    if body.key is not None and count == 0:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_LETTER)
    return {"replayed": count}


class DiscardIn(BaseModel):
    key: Annotated[str, Field(max_length=64), SingleLine]


@router.post("/dead-letters/discard", responses=refusals(503))
async def discard(
    body: DiscardIn, session: SessionDep, console: ConsoleDep, me: OperatorDep
) -> dict[str, int]:
    """Drops one letter for good."""
    if not await _broker(actions.discard(session, console, me, body.key)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_LETTER)
    return {"discarded": 1}


@router.get("/operations/overview")
async def overview_figures(
    session: SessionDep, console: ConsoleDep, me: OperatorDep
) -> dict[str, Any]:
    return await overview.with_dead_letters(session=session, console=console)


@router.get("/operations/audit")
async def audit_trail(session: SessionDep, me: OperatorDep) -> list[dict[str, Any]]:
    """What operators did, newest first."""
    return [entry.model_dump(mode="json") for entry in await audit.latest(session=session)]


async def _broker(work: Awaitable[T]) -> T:
    """`work` with the broker; a broker that does not answer is a 503 with why."""
    try:
        return await work
    except (OSError, TimeoutError, AMQPError):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, BROKER_AWAY) from None
    except ClassicDeadLetterQueue as exc:  # an upgrade not finished: say what to run
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
