"""Logging in to the triage desk's pages: a staff token once, then a server-side session
(routing.ticketing.staff_sessions) that logging out or revoking the account ends at once;
and `StaffPageDep`, the gate every desk page stands behind."""

import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import RedirectResponse, Response

from domain.web import SessionDep
from routing.ticketing import staff, staff_sessions
from routing.ticketing.staff import StaffAccount
from routing.web.deps import RoutingWeb, WebDep
from routing.web.pages import PageRoute, Refused

COOKIE = "staff_session"
# The desk (/triage) and the operators' console (/drift) share the session.
COOKIE_PATH = "/"
CONSOLE_PAGE = re.compile(r"/drift(/[a-z0-9-]+)*")
SESSION_HOURS = 10  # a working day; then the token is asked for again
STAFF_FORBIDDEN = "Ditt konto saknar rollen staff och får inte arbeta med ärenden."

router = APIRouter(prefix="/triage", include_in_schema=False, route_class=PageRoute)


def login_page(
    web: RoutingWeb, request: Request, code: int, errors: dict[str, str] | None = None
) -> Response:
    return web.pages.render(
        request,
        "triage/login.html",
        status_code=code,
        title="Logga in",
        errors=errors or {},
        me=None,
    )


def forbidden(web: RoutingWeb, request: Request) -> Refused:
    return web.pages.refuse(request, 403, "Ingen behörighet", STAFF_FORBIDDEN)


async def staff_page(request: Request, session: SessionDep, web: WebDep) -> StaffAccount:
    """The staff account of the session cookie; else the login page (401) or 403."""
    token = request.cookies.get(COOKIE, "")
    me = await staff_sessions.account_of(session=session, token=token)
    if me is None:
        raise Refused(login_page(web, request, status.HTTP_401_UNAUTHORIZED))
    if not me.is_staff:
        raise forbidden(web, request)
    return me


StaffPageDep = Annotated[StaffAccount, Depends(staff_page)]


@router.get("/logga-in")
async def login_form(request: Request, web: WebDep) -> Response:
    return login_page(web, request, 200)


@router.post("/logga-in")
async def login(request: Request, session: SessionDep, web: WebDep) -> Response:
    await web.pages.limit(request, web.rate_limit, "triage-login")
    form = await web.pages.form(request, max_fields=5)
    token = form.get("token", "").strip()[:200]
    account = await staff.by_token(session=session, token=token) if token else None
    if account is None:
        message = "Ange din personalnyckel." if not token else "Nyckeln är fel eller spärrad."
        return login_page(web, request, status.HTTP_401_UNAUTHORIZED, {"token": message})
    if not account.is_staff:
        raise forbidden(web, request)
    lasts = timedelta(hours=SESSION_HOURS)
    token = await staff_sessions.open_session(session=session, account=account, lasts=lasts)
    await session.commit()
    response = RedirectResponse(after_login(form.get("next", "")), status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=web.secure_cookies,
        path=COOKIE_PATH,
    )
    return response


def after_login(wanted: str) -> str:
    """Where the login was asked from: the desk, or a page of the operators' console
    (the same session serves both); never another site."""
    return wanted if CONSOLE_PAGE.fullmatch(wanted) else "/triage"


@router.post("/logga-ut")
async def logout(request: Request, session: SessionDep, web: WebDep) -> Response:
    await web.pages.form(request, max_fields=5)
    await staff_sessions.end_session(session=session, token=request.cookies.get(COOKIE, ""))
    await session.commit()
    response = RedirectResponse("/triage/logga-in", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response
