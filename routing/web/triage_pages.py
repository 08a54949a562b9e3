"""The triage desk's HTML pages under /triage: log in once with a staff token, then a
server-side session (routing.ticketing.staff_sessions); every POST carries the CSRF token
and redirects back (PRG)."""

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.ticketing import staff, staff_sessions, tickets
from routing.ticketing.models import TicketStatus
from routing.ticketing.staff import StaffAccount
from routing.ticketing.tickets import TicketError
from routing.ticketing.triage import ACTIONS, ALL, Desk, attachments
from routing.web.csrf import FIELD as CSRF_FIELD
from routing.web.csrf import REFUSED
from routing.web.pages import Pages
from routing.web.ratelimit import TOO_MANY, RateLimit

COOKIE = "staff_session"
SESSION_HOURS = 10  # a working day; then the token is asked for again
AGES = {"": "Alla", "1": "Äldre än 1 timme", "24": "Äldre än 1 dag", "72": "Äldre än 3 dagar"}
DONE = {
    "claim": "Du har tagit ärendet.",
    "note": "Anteckningen är sparad.",
    "reroute": "Ärendet är omdirigerat.",
    "answer": "Svaret är sparat och ärendet besvarat.",
    "close": "Ärendet är stängt.",
}


def build_router(
    *,
    get_session: Callable[[], AsyncIterator[AsyncSession]],
    pages: Pages,
    desk: Desk,
    rate_limit: RateLimit,
    secure_cookies: bool = False,
) -> APIRouter:
    SessionDep = Annotated[AsyncSession, Depends(get_session)]
    router = APIRouter(prefix="/triage", include_in_schema=False)

    async def who(request: Request, session: AsyncSession) -> StaffAccount | None:
        token = request.cookies.get(COOKIE, "")
        return await staff_sessions.account_of(session=session, token=token)

    def login_page(request: Request, code: int, errors: dict[str, str] | None = None) -> Response:
        return pages.render(
            request,
            "triage/login.html",
            status_code=code,
            title="Logga in",
            errors=errors or {},
            me=None,
        )

    async def gate(request: Request, session: AsyncSession) -> StaffAccount | Response:
        me = await who(request, session)
        if me is None:
            return login_page(request, status.HTTP_401_UNAUTHORIZED)
        if not me.is_staff:
            return pages.problem(request, 403, "Ingen behörighet", staff_forbidden)
        return me

    staff_forbidden = "Ditt konto saknar rollen staff och får inte arbeta med ärenden."

    @router.get("/logga-in")
    async def login_form(request: Request) -> Response:
        return login_page(request, 200)

    @router.post("/logga-in")
    async def login(request: Request, session: SessionDep) -> Response:
        client = rate_limit.client_of(request)
        if (wait := await rate_limit.hit("triage-login", client)) is not None:
            refused = pages.problem(request, 429, "För många försök", TOO_MANY)
            refused.headers["Retry-After"] = str(wait)
            return refused
        form = await request.form(max_files=0, max_fields=5)
        if not pages.csrf.valid(request, _text(form.get(CSRF_FIELD))):
            return pages.problem(request, 403, "Formuläret kunde inte skickas", REFUSED)
        token = _text(form.get("token")).strip()[:200]
        account = await staff.by_token(session=session, token=token) if token else None
        if account is None:
            message = "Ange din personalnyckel." if not token else "Nyckeln är fel eller spärrad."
            return login_page(request, status.HTTP_401_UNAUTHORIZED, {"token": message})
        if not account.is_staff:
            return pages.problem(request, 403, "Ingen behörighet", staff_forbidden)
        lasts = timedelta(hours=SESSION_HOURS)
        token = await staff_sessions.open_session(session=session, account=account, lasts=lasts)
        await session.commit()
        response = RedirectResponse("/triage", status.HTTP_303_SEE_OTHER)
        response.set_cookie(
            COOKIE,
            token,
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            samesite="strict",
            secure=secure_cookies,
            path="/triage",
        )
        return response

    @router.post("/logga-ut")
    async def logout(request: Request, session: SessionDep) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        if not pages.csrf.valid(request, _text(form.get(CSRF_FIELD))):
            return pages.problem(request, 403, "Formuläret kunde inte skickas", REFUSED)
        await staff_sessions.end_session(session=session, token=request.cookies.get(COOKIE, ""))
        await session.commit()
        response = RedirectResponse("/triage/logga-in", status.HTTP_303_SEE_OTHER)
        response.delete_cookie(COOKIE, path="/triage")
        return response

    @router.get("")
    async def queue(request: Request, session: SessionDep) -> Response:
        me = await gate(request, session)
        if isinstance(me, Response):
            return me
        query = request.query_params
        destination = query.get("mottagare") or None
        status_filter = query.get("status", "")
        age = query.get("alder", "")
        found = await desk.queue(
            session=session,
            staff=me,
            destination=destination,
            status=status_filter if status_filter in set(TicketStatus) else None,
            older_than_hours=int(age) if age in AGES and age else None,
        )
        return pages.render(
            request,
            "triage/queue.html",
            title="Ärenden",
            me=me,
            tickets=found,
            filters={"mottagare": destination or "", "status": status_filter, "alder": age},
            ages=AGES,
            all_value=ALL,
        )

    async def ticket_page(
        request: Request,
        session: AsyncSession,
        me: StaffAccount,
        ticket_id: str,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Response:
        ticket = await tickets.get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            return pages.problem(request, 404, "Ärendet finns inte", "Kontrollera länken.")
        return pages.render(
            request,
            "triage/ticket.html",
            status_code=422 if errors else 200,
            title=f"Ärende {ticket.reference}",
            me=me,
            ticket=ticket,
            trail=await tickets.events(session=session, ticket_id=ticket.id),
            files=await attachments(session=session, ticket_id=ticket.id),
            done=DONE.get(request.query_params.get("klart", ""), ""),
            errors=errors or {},
            values=values or {},
        )

    @router.get("/arenden/{ticket_id}")
    async def one(request: Request, ticket_id: str, session: SessionDep) -> Response:
        me = await gate(request, session)
        if isinstance(me, Response):
            return me
        return await ticket_page(request, session, me, ticket_id)

    @router.get("/arenden/{ticket_id}/bilagor/{attachment_id}")
    async def attachment(
        request: Request, ticket_id: str, attachment_id: str, session: SessionDep
    ) -> Response:
        me = await gate(request, session)
        if isinstance(me, Response):
            return me
        for file in await attachments(session=session, ticket_id=ticket_id):
            if file.id == attachment_id:
                return Response(file.data, media_type=file.content_type)
        return pages.problem(request, 404, "Bilagan finns inte", "Kontrollera länken.")

    @router.post("/arenden/{ticket_id}/{action}")
    async def act(request: Request, ticket_id: str, action: str, session: SessionDep) -> Response:
        me = await gate(request, session)
        if isinstance(me, Response):
            return me
        form = await request.form(max_files=0, max_fields=10)
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        if not pages.csrf.valid(request, values.get(CSRF_FIELD)):
            return pages.problem(request, 403, "Formuläret kunde inte skickas", REFUSED)
        ticket = await tickets.get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None or action not in ACTIONS:
            return pages.problem(request, 404, "Ärendet finns inte", "Kontrollera länken.")
        field = f"{action}_text"
        try:
            await desk.act(
                session=session,
                ticket=ticket,
                staff=me,
                action=action,
                text=values.get(field, ""),
                destination=values.get("destination", ""),
            )
        except TicketError as exc:
            # Nothing is committed: the session ends with the request and rolls back.
            return await ticket_page(request, session, me, ticket_id, {field: str(exc)}, values)
        await session.commit()
        return RedirectResponse(
            f"/triage/arenden/{ticket_id}?klart={action}", status.HTTP_303_SEE_OTHER
        )

    return router


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
