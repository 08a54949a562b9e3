"""The triage desk's HTML pages under /triage, behind the staff session of
`triage_login`; every POST carries the CSRF token and redirects back (PRG)."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response

from domain.web import SessionDep
from routing.ticketing import answers, replies, tickets
from routing.ticketing.models import Ticket, TicketStatus
from routing.ticketing.staff import StaffAccount
from routing.ticketing.stats import Clock, age_label, left_label, queue_stats, time_left
from routing.ticketing.tickets import TicketError
from routing.ticketing.triage import ALL, DeskAction, attachments
from routing.web.deps import RoutingWeb, WebDep
from routing.web.pages import PageRoute, Refused
from routing.web.triage_login import StaffPageDep

AGES = {"": "Alla", "1": "Äldre än 1 timme", "24": "Äldre än 1 dag", "72": "Äldre än 3 dagar"}
DONE: dict[str, str] = {
    DeskAction.CLAIM: "Du har tagit ärendet.",
    DeskAction.NOTE: "Anteckningen är sparad.",
    DeskAction.REROUTE: "Ärendet är omdirigerat.",
    DeskAction.ANSWER: "Svaret är sparat och ärendet besvarat.",
    DeskAction.CLOSE: "Ärendet är stängt.",
    DeskAction.ACCEPT: "Svaret är godkänt och räknas som svar från den som frågade.",
}

router = APIRouter(prefix="/triage", include_in_schema=False, route_class=PageRoute)


@router.get("")
async def queue(request: Request, session: SessionDep, web: WebDep, me: StaffPageDep) -> Response:
    query = request.query_params
    destination = query.get("mottagare") or None
    status_filter = query.get("status", "")
    age = query.get("alder", "")
    search = query.get("q", "").strip()[:200]
    found = await web.desk.queue(
        session=session,
        staff=me,
        destination=destination,
        status=status_filter if status_filter in set(TicketStatus) else None,
        older_than_hours=int(age) if age in AGES and age else None,
        q=search,
    )
    clock, now = web.desk.clock, web.now()
    return web.pages.render(
        request,
        "triage/queue.html",
        title="Ärenden",
        me=me,
        rows=[queue_row(ticket, clock, now) for ticket in found],
        stats=await queue_stats(session=session, clock=clock, now=now, destinations=me.visible),
        filters={
            "mottagare": destination or "",
            "status": status_filter,
            "alder": age,
            "q": search,
        },
        ages=AGES,
        all_value=ALL,
    )


def queue_row(ticket: Ticket, clock: Clock, now: datetime) -> dict[str, Any]:
    """What the queue shows of a ticket: its first line and its age in working hours."""
    message = str(ticket.inquiry.get("message") or "").strip()
    first = message.splitlines()[0] if message else ""
    return {
        "ticket": ticket,
        "first_line": first if len(first) <= 90 else first[:89] + "…",
        "age": age_label(clock.working_hours(ticket.created_at, now)),
        "stale": clock.is_stale(ticket, now),
        "left": left_label(hours) if (hours := time_left(clock, ticket, now)) is not None else "",
    }


@router.get("/arenden/{ticket_id}")
async def one(
    request: Request, ticket_id: str, session: SessionDep, web: WebDep, me: StaffPageDep
) -> Response:
    ticket = await found(request, session, web, me, ticket_id)
    # A canned answer picked (?svar=<id>, a GET form: no script) starts the answer text.
    picked = request.query_params.get("svar", "")
    canned = await answers.get_answer(session=session, answer_id=picked) if picked else None
    values = {"answer_text": canned.text, "svar": canned.id} if canned else None
    return await ticket_page(request, session, web, me, ticket, values=values)


@router.get("/arenden/{ticket_id}/bilagor/{attachment_id}")
async def attachment(
    request: Request,
    ticket_id: str,
    attachment_id: str,
    session: SessionDep,
    web: WebDep,
    me: StaffPageDep,
) -> Response:
    ticket = await found(request, session, web, me, ticket_id)
    for file in await attachments(session=session, ticket_id=ticket.id):
        if file.id == attachment_id:
            return Response(file.data, media_type=file.content_type)
    raise web.pages.refuse(request, 404, "Bilagan finns inte", "Kontrollera länken.")


@router.post("/arenden/{ticket_id}/{action}")
async def act(
    request: Request,
    ticket_id: str,
    action: str,
    session: SessionDep,
    web: WebDep,
    me: StaffPageDep,
) -> Response:
    values = await web.pages.form(request, max_fields=10)
    ticket = await found(request, session, web, me, ticket_id)
    if action not in set(DeskAction):
        raise not_found(request, web)
    field = f"{action}_text"
    try:
        await web.desk.act(
            session=session,
            ticket=ticket,
            staff=me,
            action=action,
            text=values.get(field, ""),
            destination=values.get("destination", ""),
            reply=values.get("reply", ""),
        )
    except TicketError as exc:
        # Nothing is committed: the session ends with the request and rolls back.
        return await ticket_page(request, session, web, me, ticket, {field: str(exc)}, values)
    await session.commit()
    # Rerouted to a queue the person does not see: back to their queue, not to a 404.
    back = f"/triage/arenden/{ticket_id}" if me.may_see(ticket.destination) else "/triage"
    return RedirectResponse(f"{back}?klart={action}", status.HTTP_303_SEE_OTHER)


async def found(
    request: Request, session: SessionDep, web: RoutingWeb, me: StaffAccount, ticket_id: str
) -> Ticket:
    """The ticket, if it lies in a queue `me` may see: else it does not exist for them."""
    ticket = await tickets.get_ticket(session=session, ticket_id=ticket_id)
    if ticket is None or not me.may_see(ticket.destination):
        raise not_found(request, web)
    return ticket


def not_found(request: Request, web: RoutingWeb) -> Refused:
    return web.pages.refuse(request, 404, "Ärendet finns inte", "Kontrollera länken.")


async def ticket_page(
    request: Request,
    session: SessionDep,
    web: RoutingWeb,
    me: StaffAccount,
    ticket: Ticket,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    trail = await tickets.events(session=session, ticket_id=ticket.id)
    return web.pages.render(
        request,
        "triage/ticket.html",
        status_code=422 if errors else 200,
        title=f"Ärende {ticket.reference}",
        me=me,
        ticket=ticket,
        trail=trail,
        held=replies.held_replies(trail),
        files=await attachments(session=session, ticket_id=ticket.id),
        answers=await answers.list_answers(session=session),
        done=DONE.get(request.query_params.get("klart", ""), ""),
        errors=errors or {},
        values=values or {},
    )
