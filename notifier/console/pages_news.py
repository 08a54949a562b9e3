"""The console's announcement pages: write one, see it as recipients will and how many
get it at each level, then send it now or schedule it; cancel one before it goes."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from domain.compensation import COMPENSATION_TYPES
from domain.swedish import SWEDISH_TIME
from domain.web import SessionDep
from notifier.console import actions
from notifier.console import announcements as news
from notifier.console.access import Operator, OperatorPageDep
from notifier.console.api_news import AnnouncementIn, drafted
from notifier.console.models import Announcement
from notifier.console.pages import render
from notifier.console.state import ConsoleDep, ConsoleWeb
from notifier.kinds.markdown import markdown
from routing.web.pages import PageRoute

router = APIRouter(prefix="/drift/aktuellt", include_in_schema=False, route_class=PageRoute)
TARGETS = {
    "alla": "Alla organisationer",
    "kommun": "Alla kommuner",
    "region": "Alla regioner",
    "lista": "Organisationerna i listan",
}
DONE = {
    "skickat": "Meddelandet är skickat.",
    "schemalagt": "Meddelandet är schemalagt.",
    "stoppat": "Meddelandet är stoppat och skickas inte.",
    "redan": "Meddelandet hade redan skickats eller stoppats.",
    "vantar": "Meddelandet är sparat men RabbitMQ svarar inte; det skickas så snart det går.",
}


@router.get("")
async def listed(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    done = DONE.get(request.query_params.get("klart", ""), "")
    return await page(request, session, console, me, {}, {}, done=done)


async def page(
    request: Request,
    session: SessionDep,
    console: ConsoleWeb,
    me: Operator,
    errors: dict[str, str],
    values: dict[str, Any],
    **context: Any,
) -> Response:
    return render(
        request,
        console,
        "news",
        "Aktuellt i e-tjänsten",
        me,
        status_code=422 if errors else 200,
        announcements=await news.listed(session=session),
        types=COMPENSATION_TYPES,
        targets=TARGETS,
        errors=errors,
        values={"target": "alla", "types": []} | values,
        **{"done": ""} | context,
    )


async def read_form(
    request: Request, console: ConsoleWeb
) -> tuple[dict[str, Any], AnnouncementIn | dict[str, str]]:
    """The form's values, and the announcement they make or the errors per field."""
    await console.pages.form(request, max_fields=40)
    form = await request.form()
    names = ("title", "body", "target", "orgs", "send_at")
    values: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in names}
    values["types"] = [str(t) for t in form.getlist("types")]
    body: dict[str, Any] = {
        "title": values["title"],
        "body": values["body"],
        "compensation_types": values["types"],
    }
    errors: dict[str, str] = {}
    if values["target"] in ("kommun", "region"):
        body["organisation_kind"] = values["target"]
    elif values["target"] == "lista":
        codes = [line.split(":", 1) for line in values["orgs"].split() if line]
        body["organisations"] = [{"kind": c[0], "code": c[-1]} for c in codes]
        if not codes:
            errors["orgs"] = "Skriv minst en organisation, till exempel kommun:0180."
    if values["send_at"]:
        try:
            local = datetime.fromisoformat(values["send_at"])
            body["send_at"] = local.replace(tzinfo=SWEDISH_TIME) if not local.tzinfo else local
        except ValueError:
            errors["send_at"] = "Skriv tiden som 2026-12-24T09:00."
    parsed: AnnouncementIn | dict[str, str] = errors
    try:
        parsed = AnnouncementIn.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            field = MESSAGES_FOR.get(str(error["loc"][0]) if error["loc"] else "", "target")
            errors.setdefault(field, MESSAGES[field])
    return values, (errors or parsed)


MESSAGES_FOR = {
    "title": "title",
    "body": "body",
    "organisations": "orgs",
    "organisation_kind": "target",
    "compensation_types": "types",
    "send_at": "send_at",
}
MESSAGES = {
    "title": "Skriv en rubrik på högst 200 tecken.",
    "body": "Skriv en text på högst 5 000 tecken.",
    "orgs": "Skriv organisationerna som kommun:0180 eller region:01, en per rad.",
    "target": "Välj vilka organisationer som ska få meddelandet.",
    "types": "Välj ersättningar ur listan.",
    "send_at": "Skriv tiden som 2026-12-24T09:00.",
}


@router.post("/forhandsgranska")
async def preview(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    values, parsed = await read_form(request, console)
    if isinstance(parsed, dict):
        return await page(request, session, console, me, parsed, values)
    draft = drafted(parsed, console.now())
    email = console.previews.announcement(draft.title, draft.body, draft.compensation_types)
    return render(
        request,
        console,
        "news_preview",
        "Granska meddelandet",
        me,
        values=values,
        email=email,
        body_html=markdown(draft.body),
        recipients=await news.count_recipients(session=session, announcement=draft),
        scheduled=draft.send_at > console.now(),
        send_at=draft.send_at,
    )


@router.post("")
async def create(
    request: Request, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    values, parsed = await read_form(request, console)
    if isinstance(parsed, dict):
        return await page(request, session, console, me, parsed, values)
    now = console.now()
    announcement = await actions.create_announcement(session, console, me, drafted(parsed, now))
    done = "schemalagt"
    if announcement.send_at <= now:
        try:
            await actions.send_announcement(console, me, announcement.id)
            done = "skickat"
        except Exception:
            done = "vantar"
    return RedirectResponse(f"/drift/aktuellt?klart={done}", status.HTTP_303_SEE_OTHER)


@router.post("/{announcement_id}/stoppa")
async def cancel(
    request: Request,
    announcement_id: str,
    session: SessionDep,
    console: ConsoleDep,
    me: OperatorPageDep,
) -> Response:
    await console.pages.form(request, max_fields=5)
    announcement = await session.get(Announcement, announcement_id)
    if announcement is None:
        raise console.pages.refuse(request, 404, "Meddelandet finns inte", "Kontrollera länken.")
    try:
        await actions.cancel_announcement(session, me, announcement)
    except news.AlreadySent:
        return RedirectResponse("/drift/aktuellt?klart=redan", status.HTTP_303_SEE_OTHER)
    return RedirectResponse("/drift/aktuellt?klart=stoppat", status.HTTP_303_SEE_OTHER)
