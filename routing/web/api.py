"""The public support routing API (docs/contracts.md §3): a dry run, and the same decision with a
ticket where the route is Migrationsverket's."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.web import SessionDep, refusals
from routing.decision import checks
from routing.decision.engine import needs_ticket, route
from routing.decision.schemas import Decision, Inquiry
from routing.ticketing import idempotency, tickets
from routing.ticketing.models import Ticket
from routing.web.deps import RoutingWeb, WebDep
from routing.web.limits import API_TOO_MANY

# Optional: a client that retries a POST with the same key and inquiry gets the ticket
# the first one opened (200) instead of a second ticket.
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
]


class TicketOut(BaseModel):
    id: str
    reference: str
    status: str
    destination: str
    created_at: datetime


class TicketAnswer(BaseModel):
    decision: Decision
    ticket: TicketOut | None


router = APIRouter(prefix="/support", tags=["support"], responses=refusals(413))


@router.post("/route")
async def dry_run(inquiry: Inquiry, web: WebDep) -> Decision:
    """Where would this inquiry go? Nothing is stored."""
    return decide(web, inquiry)


async def ticket_budget(request: Request, web: WebDep) -> None:
    """New tickets count against the client's budget, the web form's and this API's alike."""
    limit = web.rate_limit
    if (wait := await limit.hit("support-ticket", limit.client_of(request))) is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, API_TOO_MANY, headers={"Retry-After": str(wait)}
        )


@router.post(
    "/tickets",
    dependencies=[Depends(ticket_budget)],
    responses=refusals(429) | {201: {"model": TicketAnswer, "description": "Ärendet skapades."}},
)
async def open_ticket(
    inquiry: Inquiry,
    session: SessionDep,
    web: WebDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TicketAnswer:
    decision = decide(web, inquiry)
    if not needs_ticket(decision):
        return TicketAnswer(decision=decision, ticket=None)
    _reject(checks.missing_for_ticket(inquiry))
    key = idempotency.idempotency_key(idempotency_key) if idempotency_key else None
    if key and (earlier := await _replay(session, key, inquiry)):
        return answer_from(earlier)
    try:
        ticket = await tickets.create_ticket(
            session=session, inquiry=inquiry, decision=decision, idempotency_key=key
        )
        if web.on_ticket_created is not None:
            # Same transaction: the ticket and its forward are stored together or not.
            await web.on_ticket_created(session, ticket, decision)
        await session.commit()
    except IntegrityError:
        # The same retry, arrived at the same moment, committed first.
        await session.rollback()
        found = await _replay(session, key, inquiry) if key else None
        if key is None or found is None:
            raise
        return answer_from(found)
    response.status_code = status.HTTP_201_CREATED
    return TicketAnswer(decision=decision, ticket=ticket_out(ticket))


def decide(web: RoutingWeb, inquiry: Inquiry) -> Decision:
    _reject(checks.missing_for_route(inquiry))
    return route(inquiry, web.rules, web.now())


async def _replay(session: AsyncSession, key: str, inquiry: Inquiry) -> Ticket | None:
    try:
        return await idempotency.replay(session=session, key=key, inquiry=inquiry)
    except idempotency.IdempotencyKeyReused as reused:
        error = {"loc": ("header", "Idempotency-Key"), "msg": str(reused), "type": "reused"}
        raise RequestValidationError([error]) from None


def answer_from(earlier: Ticket) -> TicketAnswer:
    """A retry's answer: the ticket the first request opened, as decided then."""
    return TicketAnswer(
        decision=Decision.model_validate(earlier.decision), ticket=ticket_out(earlier)
    )


def ticket_out(ticket: Ticket) -> TicketOut:
    return TicketOut.model_validate(ticket, from_attributes=True)


def _reject(missing: dict[str, str]) -> None:
    """422 in the same shape as the schema's own errors, one per field."""
    if missing:
        raise RequestValidationError(
            [
                {"loc": ("body", name), "msg": message, "type": "missing"}
                for name, message in missing.items()
            ]
        )
