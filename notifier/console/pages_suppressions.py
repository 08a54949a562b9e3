"""The console's page of suppressed addresses: the addresses no longer mailed after
bounces, searched by address, each lifted with one button (audited)."""

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response

from domain.text import printable
from domain.web import SessionDep
from notifier.console import actions
from notifier.console.access import OperatorPageDep
from notifier.console.pages import render
from notifier.console.state import ConsoleDep
from routing.web.pages import PageRoute
from subscriptions import suppressions

PAGE = "/drift/sparrade-adresser"
router = APIRouter(prefix=PAGE, include_in_schema=False, route_class=PageRoute)
# The address stays out of the redirect's URL (and so out of access logs and history).
DONE = {
    "havd": "Spärren är hävd. Adressen får mejl igen från nästa händelse.",
    "saknas": "Adressen var inte spärrad; någon annan kan redan ha hävt spärren.",
}


@router.get("")
async def suppressions_page(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    """Every live suppression, or those whose address contains `adress` (a GET form)."""
    asked = printable(request.query_params.get("adress", "").strip())[:320]
    return render(
        request,
        console,
        "suppressions",
        "Spärrade adresser",
        me,
        asked=asked,
        rows=await suppressions.listing(session=session, containing=asked),
        done=DONE.get(request.query_params.get("klart", ""), ""),
    )


@router.post("/hav")
async def lift(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    form = await console.pages.form(request, max_fields=5)
    email = form.get("email", "").strip()[:320]
    lifted = bool(email) and await actions.lift_suppression(session, console, me, email)
    done = "havd" if lifted else "saknas"
    return RedirectResponse(f"{PAGE}?klart={done}", status.HTTP_303_SEE_OTHER)
