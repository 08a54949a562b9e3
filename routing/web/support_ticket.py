"""The support form's POST: a ticket where the route is Migrationsverket's, then a
signed receipt page. Refused early when too large or too frequent, before the body is
read."""

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature
from starlette.datastructures import UploadFile

from domain.web import SessionDep
from routing.decision import engine
from routing.ticketing import tickets, uploads
from routing.web import webform
from routing.web.deps import WebDep
from routing.web.pages import PageRoute
from routing.web.support import result

MAX_BODY = uploads.MAX_BYTES + 256 * 1024  # the image and the form's text fields
RECEIPT_MAX_AGE = 24 * 60 * 60
_TRY_AGAIN = "Något i formuläret stämde inte. Börja om från början och försök igen."
_NO_TICKET = (
    "Den här frågan hanteras inte av Migrationsverket. Se svaret för vart du ska vända dig."
)
_TOO_LARGE = "Skärmbilden får vara högst 5 MB. Välj en mindre bild och försök igen."

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.post("/support/arende")
async def open_ticket(request: Request, session: SessionDep, web: WebDep) -> Response:
    await web.pages.limit(request, web.rate_limit, "support-ticket")
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise web.pages.refuse(request, 413, "Formuläret är för stort", _TOO_LARGE)
    async with request.form(max_files=1, max_fields=40) as form:
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = await _upload(form.get("screenshot"))
    web.pages.check_csrf(request, values)
    answers = webform.valid_answers(values)
    # A filled `website` is a bot: it fills the field people never see. Say nothing useful.
    if values.get("website") or webform.next_step(answers, None) is not None:
        raise web.pages.refuse(request, 400, "Formuläret kunde inte skickas", _TRY_AGAIN)
    inquiry = webform.inquiry(answers, request.headers.get("user-agent"))
    decision = engine.route(inquiry, web.rules, web.now())
    if not engine.needs_ticket(decision):
        raise web.pages.refuse(request, 400, "Frågan skickas inte härifrån", _NO_TICKET)
    errors = webform.detail_errors(values)
    wanted = upload if "screenshot" in decision.requires else None
    screenshot = await uploads.check_off_loop(wanted) if wanted else None
    if isinstance(screenshot, str):
        errors["screenshot"] = screenshot
    if errors:
        return result(request, web, answers, errors, values)
    details = {k: values[k].strip() for k in webform.DETAILS if values.get(k, "").strip()}
    ticket = await tickets.create_ticket(
        session=session,
        inquiry=inquiry.model_copy(update=details),
        decision=decision,
        actor="webbformulär",
    )
    if isinstance(screenshot, uploads.Screenshot):
        uploads.attach(session=session, ticket_id=ticket.id, screenshot=screenshot)
    if web.on_ticket_created:
        await web.on_ticket_created(session, ticket, decision)
    await session.commit()
    receipt = web.receipts.dumps([ticket.reference, decision.primary.name])
    return RedirectResponse(f"/support/skickad/{receipt}", status.HTTP_303_SEE_OTHER)


@router.get("/support/skickad/{receipt}")
async def sent(request: Request, receipt: str, web: WebDep) -> Response:
    try:
        reference, destination = web.receipts.loads(receipt, max_age=RECEIPT_MAX_AGE)
    except BadSignature:
        raise web.pages.refuse(request, 404, "Sidan finns inte", _TRY_AGAIN) from None
    return web.pages.render(
        request,
        "support_sent.html",
        title="Din fråga är skickad",
        ticket={"reference": reference},
        destination=destination,
    )


async def _upload(upload: object) -> bytes | None:
    """The uploaded file's bytes (one more than allowed at most), or None if none."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return await upload.read(uploads.MAX_BYTES + 1) or None
