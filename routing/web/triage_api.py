"""The triage desk's JSON API under /api/v1/triage, for staff with a Bearer token."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.text import SINGLE_LINE_PATTERN, MultiLine, SingleLine
from domain.web import PathText, SessionDep, refusals
from routing.ticketing import tickets
from routing.ticketing.models import Ticket, TicketStatus
from routing.ticketing.staff import StaffAccount
from routing.ticketing.stats import queue_stats
from routing.ticketing.tickets import TicketError
from routing.ticketing.triage import ALL, MAX_TEXT, Desk, DeskAction, attachments, ticket_out
from routing.web.deps import WebDep
from routing.web.staff_api import StaffDep

NOT_FOUND = "Ärendet finns inte."
TicketId = PathText

router = APIRouter(prefix="/triage", tags=["triage"], responses=refusals(401, 403, 404, 409, 413))


class TextIn(BaseModel):
    text: Annotated[str, Field(max_length=MAX_TEXT), MultiLine] = ""


class RerouteIn(BaseModel):
    destination: Annotated[str, Field(max_length=40), SingleLine]
    # Mandatory: the person was told another route, and the trail must say why.
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT),
        MultiLine,
    ]


@router.get("/tickets")
async def queue(
    session: SessionDep,
    web: WebDep,
    me: StaffDep,
    destination: Annotated[str | None, Query(max_length=40, pattern=SINGLE_LINE_PATTERN)] = None,
    ticket_status: Annotated[TicketStatus | None, Query(alias="status")] = None,
    older_than_hours: Annotated[int | None, Query(ge=0, le=24 * 365)] = None,
    q: Annotated[str | None, Query(max_length=200, pattern=SINGLE_LINE_PATTERN)] = None,
) -> dict[str, Any]:
    """Your own queues unless `destination` names one (or `alla`); `q` finds by
    reference, email, diarienummer or words of the question (every word must match)."""
    found_tickets = await web.desk.queue(
        session=session,
        staff=me,
        destination=destination,
        status=ticket_status,
        older_than_hours=older_than_hours,
        q=q,
    )
    shown = destination or (",".join(me.destinations) if me.destinations else ALL)
    return {"destination": shown, "tickets": [ticket_out(t) for t in found_tickets]}


@router.get("/stats")
async def stats(session: SessionDep, web: WebDep, me: StaffDep) -> dict[str, Any]:
    """Open tickets per destination (oldest and median age in working hours) and tickets
    opened and closed per day for the last 30 days."""
    return await queue_stats(
        session=session, clock=web.desk.clock, now=web.now(), destinations=me.visible
    )


@router.get("/tickets/{ticket_id}")
async def one(ticket_id: TicketId, session: SessionDep, me: StaffDep) -> dict[str, Any]:
    ticket = await found(session, me, ticket_id)
    trail = await tickets.events(session=session, ticket_id=ticket.id)
    files = await attachments(session=session, ticket_id=ticket.id)
    return ticket_out(ticket) | {
        "events": [e.model_dump(mode="json", exclude={"ticket_id"}) for e in trail],
        "attachments": [
            f.model_dump(mode="json", include={"id", "filename", "content_type", "size"})
            for f in files
        ],
    }


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}")
async def attachment(
    ticket_id: TicketId, attachment_id: TicketId, session: SessionDep, me: StaffDep
) -> Response:
    ticket = await found(session, me, ticket_id)
    for file in await attachments(session=session, ticket_id=ticket.id):
        if file.id == attachment_id:
            return Response(file.data, media_type=file.content_type)
    raise HTTPException(status.HTTP_404_NOT_FOUND, "Bilagan finns inte.")


@router.post("/tickets/{ticket_id}/claim")
async def claim(
    ticket_id: TicketId, session: SessionDep, web: WebDep, me: StaffDep
) -> dict[str, Any]:
    return await act(web.desk, session, me, ticket_id, DeskAction.CLAIM)


@router.post("/tickets/{ticket_id}/reroute")
async def reroute(
    ticket_id: TicketId, body: RerouteIn, session: SessionDep, web: WebDep, me: StaffDep
) -> dict[str, Any]:
    return await act(
        web.desk,
        session,
        me,
        ticket_id,
        DeskAction.REROUTE,
        text=body.reason,
        destination=body.destination,
    )


@router.post("/tickets/{ticket_id}/replies/{reply_id}/accept")
async def accept_reply(
    ticket_id: TicketId,
    reply_id: Annotated[int, Path(ge=1, le=2**62)],
    session: SessionDep,
    web: WebDep,
    me: StaffDep,
) -> dict[str, Any]:
    """Take in a reply by email that was held (another sender than the ticket's, or one
    the relay could not vouch for): it counts as the person's and reopens the ticket."""
    return await act(web.desk, session, me, ticket_id, DeskAction.ACCEPT, reply=str(reply_id))


@router.post("/tickets/{ticket_id}/{action}")
async def with_text(
    ticket_id: TicketId,
    action: Literal["notes", "answer", "close"],
    body: TextIn,
    session: SessionDep,
    web: WebDep,
    me: StaffDep,
) -> dict[str, Any]:
    """`notes` adds a note (the URL names the collection); answer and close are as named."""
    return await act(
        web.desk, session, me, ticket_id, DeskAction(action.removesuffix("s")), text=body.text
    )


async def found(session: AsyncSession, me: StaffAccount, ticket_id: str) -> Ticket:
    """The ticket, if it lies in a queue `me` may see: else it does not exist for them."""
    ticket = await tickets.get_ticket(session=session, ticket_id=ticket_id)
    if ticket is None or not me.may_see(ticket.destination):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return ticket


async def act(
    desk: Desk,
    session: AsyncSession,
    me: StaffAccount,
    ticket_id: str,
    action: DeskAction,
    **fields: str,
) -> dict[str, Any]:
    """Do `action` and commit; a refusal is a 409 with the desk's Swedish message."""
    ticket = await found(session, me, ticket_id)
    try:
        await desk.act(session=session, ticket=ticket, staff=me, action=action, **fields)
    except TicketError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    await session.commit()
    return ticket_out(ticket)
