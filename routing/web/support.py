"""The public support form at /support: questions over GET, a result page, and a POST that
opens a ticket where the route is Migrationsverket's. Also the stylesheet and the
accessibility statement."""

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from importlib.resources import files
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import UploadFile

from domain.organisations import Organisation, OrganisationKind, organisations
from routing.decision import engine
from routing.decision.rules import RuleSet
from routing.ticketing import tickets, uploads
from routing.ticketing.tickets import TicketCreatedHook
from routing.web import webform, webtext
from routing.web.csrf import FIELD as CSRF_FIELD
from routing.web.csrf import REFUSED
from routing.web.pages import Pages
from routing.web.ratelimit import TOO_MANY, RateLimit

MAX_BODY = uploads.MAX_BYTES + 256 * 1024  # the image and the form's text fields
TITLES = {1: "Vad gäller din fråga?", 2: "Berätta lite mer", 3: "Inloggningsalternativ"}
RECEIPT_MAX_AGE = 24 * 60 * 60
_SWEDISH_ORDER = str.maketrans({"å": "{", "ä": "|", "ö": "}", "Å": "[", "Ä": "\\", "Ö": "]"})


def sorted_organisations(kind: OrganisationKind) -> list[Organisation]:
    chosen = [org for org in organisations().values() if org.kind == kind]
    return sorted(chosen, key=lambda org: org.name.translate(_SWEDISH_ORDER))


def query_of(values: Mapping[str, str], **extra: str | int) -> str:
    return "/support?" + urlencode({**values, **extra})


def summary(answers: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(question, answer, where to change it) for the result page."""
    labels = {
        "issue_type": ("Fråga", webtext.ISSUE_TYPES),
        "login_step": ("Inloggningssteg", webtext.LOGIN_STEPS),
        "login_method": ("Inloggningsalternativ", webtext.LOGIN_METHODS),
        "compensation": ("Ersättning", webtext.COMPENSATIONS),
    }
    rows = []
    for number, questions in enumerate(webform.steps(answers), start=1):
        url = query_of(answers, visa=number)
        for name in questions:
            if name == "organisation":
                org = webform.organisation_of(answers[name])
                rows.append(("Kommun eller region", org_name(org), url))
            else:
                label, options = labels[name]
                rows.append((label, options[answers[name]], url))
    return rows


def org_name(ref: object) -> str:
    org = organisations().get((ref.kind, ref.code)) if ref else None  # type: ignore[attr-defined]
    return org.name if org else ""


def build_router(
    *,
    get_session: Callable[[], AsyncIterator[AsyncSession]],
    pages: Pages,
    rules: RuleSet,
    now: Callable[[], datetime],
    rate_limit: RateLimit,
    signing_key: bytes,
    on_ticket_created: TicketCreatedHook | None = None,
) -> APIRouter:
    SessionDep = Annotated[AsyncSession, Depends(get_session)]
    router = APIRouter(include_in_schema=False)
    receipts = URLSafeTimedSerializer(signing_key, salt="support-receipt")
    css = files("templates").joinpath("web", "static", "site.css").read_bytes()

    @router.get("/assets/site.css")
    async def stylesheet() -> Response:
        return Response(
            css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
        )

    @router.get("/tillganglighet")
    async def accessibility(request: Request) -> Response:
        return pages.render(request, "accessibility.html", title="Tillgänglighetsredogörelse")

    @router.get("/support")
    async def support(request: Request) -> Response:
        values = {k: v for k, v in request.query_params.items() if k in webform.ANSWERS}
        answers = webform.valid_answers(values)
        step = webform.next_step(values, _number(request.query_params.get("step")))
        show = _number(request.query_params.get("visa"))
        pages_for_answers = webform.steps(answers)
        if show and show <= len(pages_for_answers) and not (step and step.errors):
            step = webform.Step(show, pages_for_answers[show - 1])
        if step is None:
            return result(request, answers)
        hidden = {k: v for k, v in answers.items() if k not in step.questions}
        back = {k: v for k, v in answers.items() if k in _before(answers, step.number)}
        return pages.render(
            request,
            "support_step.html",
            status_code=422 if step.errors else 200,
            title=TITLES.get(step.number, TITLES[3]) if step.number > 1 else TITLES[1],
            step=step,
            errors=step.errors,
            values=values,
            hidden=hidden,
            back_url=query_of(back, visa=max(1, step.number - 1)),
            kommuner=sorted_organisations(OrganisationKind.KOMMUN),
            regioner=sorted_organisations(OrganisationKind.REGION),
        )

    def result(
        request: Request,
        answers: dict[str, str],
        errors: dict[str, str] | None = None,
        values: Mapping[str, str] | None = None,
    ) -> Response:
        inquiry = webform.inquiry(answers, request.headers.get("user-agent"))
        decision = engine.route(inquiry, rules, now())
        return pages.render(
            request,
            "support_result.html",
            status_code=422 if errors else 200,
            title="Här får du hjälp",
            decision=decision,
            answers=answers,
            summary=summary(answers),
            ticket_possible=engine.needs_ticket(decision),
            errors=errors or {},
            values=values or {},
            back_url=query_of(answers, visa=len(webform.steps(answers))),
        )

    @router.post("/support/arende")
    async def open_ticket(request: Request, session: SessionDep) -> Response:
        refused = await _guard(request)
        if refused:
            return refused
        async with request.form(max_files=1, max_fields=40) as form:
            values = {k: v for k, v in form.items() if isinstance(v, str)}
            upload = await _upload(form.get("screenshot"))
        if not pages.csrf.valid(request, values.get(CSRF_FIELD)):
            return pages.problem(request, 403, "Formuläret kunde inte skickas", REFUSED)
        if values.get("website"):
            # A bot filled the field people never see: say nothing useful, store nothing.
            return pages.problem(request, 400, "Formuläret kunde inte skickas", _TRY_AGAIN)
        answers = webform.valid_answers(values)
        if webform.next_step(answers, None) is not None:
            return pages.problem(request, 400, "Formuläret kunde inte skickas", _TRY_AGAIN)
        inquiry = webform.inquiry(answers, request.headers.get("user-agent"))
        decision = engine.route(inquiry, rules, now())
        if not engine.needs_ticket(decision):
            return pages.problem(request, 400, "Frågan skickas inte härifrån", _NO_TICKET)
        errors = webform.detail_errors(values)
        screenshot = upload if "screenshot" in decision.requires else None
        if screenshot and (problem := uploads.upload_error(screenshot)):
            errors["screenshot"] = problem
        if errors:
            return result(request, answers, errors, values)
        details = {k: values[k].strip() for k in webform.DETAILS if values.get(k, "").strip()}
        inquiry = inquiry.model_copy(update=details)
        ticket = await tickets.create_ticket(
            session=session, inquiry=inquiry, decision=decision, actor="webbformulär"
        )
        if screenshot:
            uploads.add_screenshot(session=session, ticket_id=ticket.id, data=screenshot)
        if on_ticket_created:
            await on_ticket_created(session, ticket, decision)
        await session.commit()
        receipt = receipts.dumps([ticket.reference, decision.primary.name])
        return RedirectResponse(f"/support/skickad/{receipt}", status.HTTP_303_SEE_OTHER)

    @router.get("/support/skickad/{receipt}")
    async def sent(request: Request, receipt: str) -> Response:
        try:
            reference, destination = receipts.loads(receipt, max_age=RECEIPT_MAX_AGE)
        except BadSignature:
            return pages.problem(request, 404, "Sidan finns inte", _TRY_AGAIN)
        return pages.render(
            request,
            "support_sent.html",
            title="Din fråga är skickad",
            ticket={"reference": reference},
            destination=destination,
        )

    async def _guard(request: Request) -> Response | None:
        """Too large or too often: refuse before reading the body."""
        wait = await rate_limit.hit("support-ticket", rate_limit.client_of(request))
        if wait is not None:
            response = pages.problem(request, 429, "För många försök", TOO_MANY)
            response.headers["Retry-After"] = str(wait)
            return response
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return pages.problem(request, 413, "Formuläret är för stort", _TOO_LARGE)
        return None

    return router


_TRY_AGAIN = "Något i formuläret stämde inte. Börja om från början och försök igen."
_NO_TICKET = (
    "Den här frågan hanteras inte av Migrationsverket. Se svaret för vart du ska vända dig."
)
_TOO_LARGE = "Skärmbilden får vara högst 5 MB. Välj en mindre bild och försök igen."


def _number(value: str | None) -> int | None:
    # isdigit() alone is true for "²" and "①", which int() refuses: ASCII digits only.
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 3 else None


def _before(answers: Mapping[str, str], number: int) -> set[str]:
    return {name for page in webform.steps(answers)[: number - 1] for name in page}


async def _upload(upload: object) -> bytes | None:
    """The uploaded file's bytes (one more than allowed at most), or None if none."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return await upload.read(uploads.MAX_BYTES + 1) or None
