"""The console's page of what went wrong: failed emails by reason (retry one or all of a
reason) and the dead letters (replay one or all, discard one)."""

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response

from domain.web import SessionDep
from notifier.console import actions, failures, letters
from notifier.console.access import OperatorPageDep
from notifier.console.pages import render
from notifier.console.state import ConsoleDep
from routing.web.pages import PageRoute

router = APIRouter(prefix="/drift/fel", include_in_schema=False, route_class=PageRoute)
DONE = {
    "forsok": "Mejlen har lagts i kön för ett nytt försök.",
    "skickat": "Meddelandet har skickats till händelsekön igen.",
    "kastat": "Meddelandet är borttaget.",
    "saknas": "Meddelandet fanns inte kvar; någon annan kan ha hanterat det.",
    "rabbitmq": "RabbitMQ svarar inte just nu; försök igen om en stund.",
}


@router.get("")
async def failures_page(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    try:
        dead = await letters.peek(console.amqp_url, console.topology)
    except Exception:  # the broker away: the failed emails still show
        dead = None
    return render(
        request,
        console,
        "failures",
        "Fel och dead letters",
        me,
        groups=await failures.failed_groups(session=session),
        dead=dead,
        done=DONE.get(request.query_params.get("klart", ""), ""),
    )


@router.post("/forsok")
async def retry(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    """One failed email (`id`) or every one of a `reason`."""
    form = await console.pages.form(request, max_fields=5)
    row_id = form.get("id", "")
    if row_id.isdigit():
        await actions.retry(session, console, me, row_id=int(row_id))
    elif reason := form.get("reason"):
        await actions.retry(session, console, me, reason=reason)
    return back("forsok")


@router.post("/dead-letters/skicka-igen")
async def replay(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    """One letter (`key`), or every one without."""
    form = await console.pages.form(request, max_fields=5)
    key = form.get("key") or None
    try:
        count = await actions.replay(session, console, me, key)
    except Exception:
        return back("rabbitmq")
    return back("skickat" if count or key is None else "saknas")


@router.post("/dead-letters/kasta")
async def discard(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    form = await console.pages.form(request, max_fields=5)
    try:
        gone = await actions.discard(session, console, me, form.get("key", ""))
    except Exception:
        return back("rabbitmq")
    return back("kastat" if gone else "saknas")


def back(done: str) -> Response:
    return RedirectResponse(f"/drift/fel?klart={done}", status.HTTP_303_SEE_OTHER)
