"""The support form's questions: which to ask, in what order, and what answers are valid.

Pure functions of the submitted fields, so every path and error is tested without HTTP.
The questions are asked over GET round trips (nothing is stored until a ticket is sent),
each page carrying the earlier answers as hidden fields.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from domain.organisations import OrganisationRef, find_organisation
from domain.text import printable, text_error
from routing.decision.schemas import Inquiry, IssueType, LoginStep, TargetGroup
from routing.web import webtext

# Every field's longest accepted answer; the choices' values are far shorter.
MAX_LENGTH = {
    "issue_type": 32,
    "organisation": 16,
    "login_step": 4,
    "login_method": 32,
    "compensation": 64,
    "name": 200,
    "email": 320,
    "diarienummer": 200,
    "case_officer": 200,
    "message": 5000,
}
ANSWERS = ("issue_type", "organisation", "login_step", "login_method", "compensation")
DETAILS = ("name", "email", "diarienummer", "case_officer", "message")

MESSAGES = {
    "issue_type": "Välj vad din fråga gäller.",
    "organisation": "Välj den kommun eller region du arbetar i.",
    "login_step": "Välj i vilket steg av inloggningen problemet uppstår.",
    "login_method": "Välj vilket inloggningsalternativ du använder i Ineras meny.",
    "compensation": "Välj vilken ersättning frågan gäller.",
    "email": "Ange en e-postadress i rätt format, till exempel namn@kommun.se.",
    "email_missing": "Ange din e-postadress, så att vi kan svara dig.",
    "message": "Beskriv kort vad din fråga gäller.",
}


@dataclass
class Step:
    """The page to show: which questions, and the errors of the last submission."""

    number: int
    questions: tuple[str, ...]
    errors: dict[str, str] = field(default_factory=dict)


def too_long(values: Mapping[str, str]) -> dict[str, str]:
    return {
        name: f"Svaret får vara högst {limit} tecken."
        for name, limit in MAX_LENGTH.items()
        if len(values.get(name, "")) > limit
    }


def steps(answers: Mapping[str, str]) -> list[tuple[str, ...]]:
    """The questions that matter for these answers, one tuple per page."""
    pages: list[tuple[str, ...]] = [("issue_type",)]
    issue = answers.get("issue_type")
    if issue == IssueType.LOGIN:
        pages.append(("organisation", "login_step"))
        if answers.get("login_step") == LoginStep.SECOND:
            pages.append(("login_method",))
    elif issue == IssueType.COMPENSATION:
        pages.append(("organisation", "compensation"))
    elif issue in (IssueType.PERMISSIONS, IssueType.ESERVICE_GENERAL):
        pages.append(("organisation",))
    return pages


def answer_error(name: str, value: str) -> str | None:
    choices = {
        "issue_type": webtext.ISSUE_TYPES,
        "login_step": webtext.LOGIN_STEPS,
        "login_method": webtext.LOGIN_METHODS,
        "compensation": webtext.COMPENSATIONS,
    }
    if name == "organisation":
        return None if organisation_of(value) else MESSAGES[name]
    return None if value in choices[name] else MESSAGES[name]


def organisation_of(value: str) -> OrganisationRef | None:
    """`"kommun:0180"` → the organisation, if it exists."""
    kind, _, code = value.partition(":")
    if find_organisation(kind, code) is None:
        return None
    return OrganisationRef.model_validate({"kind": kind, "code": code})


def next_step(values: Mapping[str, str], submitted_step: int | None) -> Step | None:
    """The first page with an unanswered or invalid question, or None when all is answered.

    Errors are shown only for the page just submitted: a first visit shows none.
    """
    long = too_long(values)
    valid = valid_answers(values)
    for number, questions in enumerate(steps(valid), start=1):
        if all(name in valid for name in questions):
            continue
        step = Step(number, questions)
        if submitted_step == number:
            step.errors = {
                name: long.get(name) or MESSAGES[name] for name in questions if name not in valid
            }
        return step
    return None


def valid_answers(values: Mapping[str, str]) -> dict[str, str]:
    """The valid answers that belong to this path (a changed answer drops stale ones)."""
    long = too_long(values)
    valid = {
        name: values[name]
        for name in ANSWERS
        if values.get(name) and name not in long and not answer_error(name, values[name])
    }
    wanted = {name for page in steps(valid) for name in page}
    return {name: value for name, value in valid.items() if name in wanted}


def inquiry(answers: Mapping[str, str], user_agent: str | None) -> Inquiry:
    """The inquiry of a complete, valid set of answers."""
    fields: dict[str, object] = {"issue_type": answers["issue_type"]}
    if "organisation" in answers:
        fields["organisation"] = organisation_of(answers["organisation"])
    for name in ("login_step", "login_method"):
        if name in answers:
            fields[name] = answers[name]
    compensation = answers.get("compensation", "")
    if compensation.startswith(webtext.GROUP_PREFIX):
        fields["target_group"] = TargetGroup(compensation.removeprefix(webtext.GROUP_PREFIX))
    elif compensation:
        fields["compensation_type"] = compensation
    if user_agent:
        fields["browser"] = printable(user_agent)[:5000]
    return Inquiry.model_validate(fields)


def detail_errors(values: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with the ticket form's own fields, in the order they are shown."""
    errors = too_long({name: values.get(name, "") for name in DETAILS})
    for name in DETAILS:
        if name not in errors and (
            bad := text_error(values.get(name, ""), multiline=name == "message")
        ):
            errors[name] = bad
    email = values.get("email", "").strip()
    if "email" not in errors:
        if not email:
            errors["email"] = MESSAGES["email_missing"]
        elif not valid_email(email):
            errors["email"] = MESSAGES["email"]
    if "message" not in errors and not values.get("message", "").strip():
        errors["message"] = MESSAGES["message"]
    return {name: errors[name] for name in DETAILS if name in errors}


def valid_email(email: str) -> bool:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True
