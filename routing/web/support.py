"""The public support form at /support: questions over GET and the result page; also the
stylesheet and the accessibility statement. Opening a ticket is `support_ticket`."""

from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from domain.organisations import Organisation, OrganisationKind, organisation_name, organisations
from routing.decision import engine
from routing.web import webform, webtext
from routing.web.deps import RoutingWeb, WebDep
from routing.web.pages import PageRoute

TITLES = {1: "Vad gäller din fråga?", 2: "Berätta lite mer", 3: "Inloggningsalternativ"}
_SWEDISH_ORDER = str.maketrans({"å": "{", "ä": "|", "ö": "}", "Å": "[", "Ä": "\\", "Ö": "]"})

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/assets/site.css")
async def stylesheet() -> Response:
    return Response(
        _css(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/tillganglighet")
async def accessibility(request: Request, web: WebDep) -> Response:
    return web.pages.render(request, "accessibility.html", title="Tillgänglighetsredogörelse")


@router.get("/support")
async def support(request: Request, web: WebDep) -> Response:
    values = {k: v for k, v in request.query_params.items() if k in webform.ANSWERS}
    answers = webform.valid_answers(values)
    step = webform.next_step(values, _number(request.query_params.get("step")))
    show = _number(request.query_params.get("visa"))
    pages_for_answers = webform.steps(answers)
    if show and show <= len(pages_for_answers) and not (step and step.errors):
        step = webform.Step(show, pages_for_answers[show - 1])
    if step is None:
        return result(request, web, answers)
    hidden = {k: v for k, v in answers.items() if k not in step.questions}
    back = {k: v for k, v in answers.items() if k in _before(answers, step.number)}
    return web.pages.render(
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
    web: RoutingWeb,
    answers: dict[str, str],
    errors: dict[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> Response:
    """Where the answers lead, with the form to open a ticket where the route is ours."""
    inquiry = webform.inquiry(answers, request.headers.get("user-agent"))
    decision = engine.route(inquiry, web.rules, web.now())
    return web.pages.render(
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
                rows.append(("Kommun eller region", organisation_name(org) or "", url))
            else:
                label, options = labels[name]
                rows.append((label, options[answers[name]], url))
    return rows


@cache
def _css() -> bytes:
    """Package data, read once: it changes only with a new installation."""
    return files("templates").joinpath("web", "static", "site.css").read_bytes()


def _number(value: str | None) -> int | None:
    # isdigit() alone is true for "²" and "①", which int() refuses: ASCII digits only.
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 3 else None


def _before(answers: Mapping[str, str], number: int) -> set[str]:
    return {name for page in webform.steps(answers)[: number - 1] for name in page}
