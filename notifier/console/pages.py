"""The console's HTML pages under /drift, behind the desk's login and the role operator;
every POST carries the CSRF token and redirects back (PRG)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.web import SessionDep
from notifier.console import overview, text
from notifier.console.access import Operator, OperatorPageDep
from notifier.console.state import ConsoleDep, ConsoleWeb
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
