"""The console's template pages: every email the service sends, its subject, text and
HTML side by side (the HTML in a sandboxed frame, at a phone's and a desktop's width),
and a test send to an address the operator gives."""

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.compensation import PermissionLevel
from domain.web import SessionDep
from notifier.console import actions, sends
from notifier.console.access import OperatorPageDep
from notifier.console.pages import render
from notifier.console.previews import TEMPLATES, TEXT_ONLY
from notifier.console.state import ConsoleDep
from routing.web.pages import PageRoute

router = APIRouter(prefix="/drift/mallar", include_in_schema=False, route_class=PageRoute)
# The preview frame's own policy: the email's inline styles, nothing else; no scripts,
# no forms, no navigation of the console (sandbox), framed only by the console.
PREVIEW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; frame-ancestors 'self'; sandbox",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
}
WIDTHS = {"Mobil": 375, "Dator": 800}


def level_of(request: Request) -> PermissionLevel:
    asked = request.query_params.get("niva", "")
    return PermissionLevel(asked) if asked in set(PermissionLevel) else PermissionLevel.FULL


@router.get("")
async def listed(request: Request, console: ConsoleDep, me: OperatorPageDep) -> Response:
    return render(
        request, console, "templates", "Mallar", me, templates=TEMPLATES, text_only=TEXT_ONLY
    )


@router.get("/{name}")
async def one(request: Request, name: str, console: ConsoleDep, me: OperatorPageDep) -> Response:
    return template_page(request, console, me, name, {}, {})


def template_page(
    request: Request,
    console: ConsoleDep,
    me: OperatorPageDep,
    name: str,
    errors: dict[str, str],
    values: dict[str, str],
) -> Response:
    if name not in TEMPLATES:
        raise console.pages.refuse(request, 404, "Mallen finns inte", "Kontrollera länken.")
    level = level_of(request)
    return render(
        request,
        console,
        "template",
        f"Mall: {TEMPLATES[name]}",
        me,
        status_code=422 if errors else 200,
        name=name,
        level=level,
        levels=[] if name in TEXT_ONLY else list(PermissionLevel),
        preview=console.previews.render(name, level),
        widths=WIDTHS,
        done=request.query_params.get("skickat") == "1",
        errors=errors,
        values=values,
    )


@router.get("/{name}/html")
async def html(request: Request, name: str, console: ConsoleDep, me: OperatorPageDep) -> Response:
    """The email's HTML alone, for the preview frame."""
    if name not in TEMPLATES or name in TEXT_ONLY:
        raise console.pages.refuse(request, 404, "Mallen finns inte", "Kontrollera länken.")
    preview = console.previews.render(name, level_of(request))
    return HTMLResponse(preview.html or "", headers=PREVIEW_HEADERS)


@router.post("/{name}/test")
async def test_send(
    request: Request, name: str, session: SessionDep, console: ConsoleDep, me: OperatorPageDep
) -> Response:
    form = await console.pages.form(request, max_fields=5)
    if name not in TEMPLATES:
        raise console.pages.refuse(request, 404, "Mallen finns inte", "Kontrollera länken.")
    to = form.get("to", "").strip()[:320]
    if error := address_error(to):
        return template_page(request, console, me, name, {"to": error}, form)
    if await console.test_sends.hit("template-test", me.actor) is not None:
        return template_page(request, console, me, name, {"to": TOO_MANY}, form)
    try:
        await actions.test_send(session, console, me, name=name, level=level_of(request), to=to)
    except sends.NotATestAddress:
        return template_page(request, console, me, name, {"to": TO_USER}, form)
    level = level_of(request).value
    return RedirectResponse(
        f"/drift/mallar/{name}?niva={level}&skickat=1", status.HTTP_303_SEE_OTHER
    )


TOO_MANY = "Du har skickat många testmejl på kort tid. Vänta en stund och försök igen."
TO_USER = "Adressen tillhör en användare av tjänsten. Testmejl går aldrig till användare."


def address_error(to: str) -> str | None:
    if not to:
        return "Ange adressen testmejlet ska till."
    try:
        validate_email(to, check_deliverability=False)
    except EmailNotValidError:
        return "Ange en e-postadress i formatet namn@exempel.se."
    return None
