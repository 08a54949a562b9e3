"""The public support routing API (CONTRACTS §3): a dry run, and the same decision with a
ticket where the route is Migrationsverket's."""

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from routing import checks, tickets
from routing.engine import needs_ticket, route
from routing.models import Ticket
from routing.rules import RuleSet
from routing.schemas import Decision, Inquiry


class TicketOut(BaseModel):
    id: str
    reference: str
    status: str
    destination: str
    created_at: datetime


class TicketAnswer(BaseModel):
    decision: Decision
    ticket: TicketOut | None


def build_router(
    *,
    get_session: Callable[[], AsyncIterator[AsyncSession]],
    rules: RuleSet,
    on_ticket_created: tickets.TicketCreatedHook | None = None,
    now: Callable[[], datetime] = utcnow,
) -> APIRouter:
    """The composition root hands in the session, the rules, what to do when a ticket is
    created (forwarding) and the clock."""
    SessionDep = Annotated[AsyncSession, Depends(get_session)]
    router = APIRouter(prefix="/support", tags=["support"])

    def decide(inquiry: Inquiry) -> Decision:
        _reject(checks.missing_for_route(inquiry))
        return route(inquiry, rules, now())

    @router.post("/route")
    async def dry_run(inquiry: Inquiry) -> Decision:
        """Where would this inquiry go? Nothing is stored."""
        return decide(inquiry)

    @router.post("/tickets")
    async def open_ticket(
        inquiry: Inquiry, session: SessionDep, response: Response
    ) -> TicketAnswer:
        decision = decide(inquiry)
        if not needs_ticket(decision):
            return TicketAnswer(decision=decision, ticket=None)
        _reject(checks.missing_for_ticket(inquiry))
        ticket = await tickets.create_ticket(session=session, inquiry=inquiry, decision=decision)
        if on_ticket_created is not None:
            # Same transaction: the ticket and its forward are stored together or not at all.
            await on_ticket_created(session, ticket, decision)
        await session.commit()
        response.status_code = status.HTTP_201_CREATED
        return TicketAnswer(decision=decision, ticket=ticket_out(ticket))

    return router


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
