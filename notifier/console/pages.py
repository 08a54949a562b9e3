"""The console's HTML pages under /drift, behind the desk's login and the role operator;
every POST carries the CSRF token and redirects back (PRG)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.text import printable
from domain.web import SessionDep
from notifier.console import audit, deliveries, overview, text
from notifier.console.access import Operator, OperatorPageDep
from notifier.console.state import ConsoleDep, ConsoleWeb
from notifier.web.explain import explain_delivery
from routing.web.pages import PageRoute

router = APIRouter(prefix="/drift", include_in_schema=False, route_class=PageRoute)


@router.get("")
async def start(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    figures = await overview.with_dead_letters(session=session, console=console)
    return render(request, console, "overview", "Översikt", me, figures=figures)


def render(
    request: Request, console: ConsoleWeb, page: str, title: str, me: Operator, **context: Any
) -> Response:
    return console.pages.render(
        request, f"console/{page}.html", title=title, me=me, c=text, **context
    )


SEARCH_FIELDS = {
    "email": "E-postadress",
    "user_id": "Användar-id",
    "diarienummer": "Diarienummer",
    "event_id": "Händelse-id",
    "reference": "Ärendereferens",
}


@router.get("/utskick")
async def deliveries_page(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    """Every email's fate by any of SEARCH_FIELDS (a GET form: bookmarkable, no script)."""
    asked = {
        name: printable(request.query_params.get(name, "").strip())[:320] for name in SEARCH_FIELDS
    }
    found = await deliveries.find(session=session, **{k: v or None for k, v in asked.items()})
    why = None
    if asked["user_id"] and asked["event_id"]:
        why = await explain_delivery(
            session=session, user_id=asked["user_id"], event_id=asked["event_id"]
        )
    return render(
        request,
        console,
        "deliveries",
        "Mejlens öden",
        me,
        fields=SEARCH_FIELDS,
        asked=asked,
        searched=any(asked.values()),
        found=found,
        why=why,
    )


@router.get("/logg")
async def audit_page(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    entries = await audit.latest(session=session)
    return render(request, console, "audit", "Logg över åtgärder", me, entries=entries)
