"""Every validation message a member of the public or a kommun user can see is Swedish
(issue 26): pydantic's English never reaches the public support API or a public page."""

import re
from typing import Any

import httpx
import pytest

from domain.validation import MESSAGES, swedish
from tests.test_support_api import inquiry

# Words of pydantic's, email-validator's and FastAPI's English messages.
ENGLISH = re.compile(
    r"\b(should|Input|Field required|Extra inputs|permitted|character|is not a valid|"
    r"must have|decode|valid (email|datetime|integer|string|dictionary))\b"
)

BAD_INQUIRIES = [
    {"issue_type": "nonsense"},
    {"issue_type": "login", "login_step": 3},
    {"issue_type": "login", "login_step": "ett"},
    {"issue_type": "login", "login_step": 1, "login_method": "papper"},
    {"issue_type": "compensation", "compensation_type": "okand"},
    {"issue_type": "compensation", "target_group": "alla"},
    {"issue_type": "login", "login_step": 1, "email": "inte-en-adress"},
    {"issue_type": "login", "login_step": 1, "email": ""},
    {"issue_type": "login", "login_step": 1, "name": "x" * 201},
    {"issue_type": "login", "login_step": 1, "message": "x" * 5001},
    {"issue_type": "login", "login_step": 1, "name": "rad\nbrytning"},
    {"issue_type": "login", "login_step": 1, "asked_at": "igår"},
    {"issue_type": "login", "login_step": 1, "asked_at": "2026-11-26T10:15:00"},
    {"issue_type": "login", "login_step": 1, "asked_at": 0},  # not seconds since 1970
    {"issue_type": "login", "login_step": 1, "organisation": {"kind": "kommun", "code": "9"}},
    {"issue_type": "login", "login_step": 1, "organisation": {"kind": "län", "code": "01"}},
    {"issue_type": "login", "login_step": 1, "organisation": "Stockholm"},
    {"issue_type": "login", "login_step": 1, "diarienummer": 12},
    {"issue_type": "login", "login_step": 1, "okänt_fält": 1},
]


@pytest.mark.parametrize("fields", BAD_INQUIRIES)
@pytest.mark.parametrize("path", ["/api/v1/support/route", "/api/v1/support/tickets"])
async def test_the_public_support_api_explains_every_refusal_in_swedish(
    client: httpx.AsyncClient, fields: dict[str, Any], path: str
) -> None:
    response = await client.post(path, json=inquiry(**fields))
    assert response.status_code == 422, response.text
    for error in response.json()["detail"]:
        assert error["msg"] and not ENGLISH.search(error["msg"]), error


@pytest.mark.parametrize("body", [b"{", b"[]", b'"text"', b"null", b'{"issue_type": ["login"]}'])
async def test_a_body_that_is_no_inquiry_is_refused_in_swedish(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post(
        "/api/v1/support/route", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert not ENGLISH.search(response.text), response.text


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/support?steg=x&issue_type=okand&login_step=9", None),
        ("GET", "/mina-notifieringar/inte-en-token", None),
        ("POST", "/mina-notifieringar/inte-en-token", {"delivery": "varje timme"}),
        ("GET", "/support/skickad/felaktigt-kvitto", None),
        ("POST", "/support/arende", {"issue_type": "login", "email": "x"}),
    ],
)
async def test_public_pages_answer_bad_input_in_swedish(
    client: httpx.AsyncClient, method: str, path: str, data: dict[str, str] | None
) -> None:
    response = await client.request(method, path, data=data)
    assert response.status_code < 500
    assert not ENGLISH.search(response.text), response.text[:2000]


def test_every_known_error_type_has_a_swedish_message_with_its_limits() -> None:
    error = {
        "type": "string_too_long",
        "msg": "String should have at most 200 characters",
        "input": "x",
        "ctx": {"max_length": 200},
    }
    assert swedish(error) == "Texten är för lång: högst 200 tecken."
    enum = {
        "type": "enum",
        "msg": "Input should be '1' or '2'",
        "input": 3,
        "ctx": {"expected": "'1' or '2'"},
    }
    assert swedish(enum) == "Välj ett av värdena '1', '2'."
    assert all(not ENGLISH.search(message) for message in MESSAGES.values())
