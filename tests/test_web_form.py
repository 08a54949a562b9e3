"""The support form at /support: every path, every error, and what protects it."""

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import select

from notifier.compose import Services
from routing.ticketing import tickets
from routing.ticketing.models import Attachment
from tests.factories import tiny_image

PNG = tiny_image("PNG")
JPEG = tiny_image("JPEG")
LOGIN_STEP1 = {"issue_type": "login", "organisation": "kommun:0180", "login_step": "1"}
SEA = {
    "issue_type": "compensation",
    "organisation": "kommun:1480",
    "compensation": "dygnsschablon-ensamkommande",
}
DETAILS = {"email": "anna.berg@stockholm.se", "message": "Jag kommer inte in.", "website": ""}


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def main_of(page: httpx.Response) -> str:
    return page.text[page.text.index("<main") :]


async def submit_ticket(
    client: httpx.AsyncClient, answers: dict[str, str], **fields: Any
) -> httpx.Response:
    files = fields.pop("files", None)
    page = await client.get("/support", params=answers)
    data = answers | DETAILS | {"csrf_token": csrf_of(page)} | fields
    return await client.post("/support/arende", data=data, files=files)


async def all_tickets(services: Services) -> list[Any]:
    async with services.sessions() as session:
        return await tickets.list_tickets(session=session)


async def test_first_page_asks_what_the_question_is_about(client: httpx.AsyncClient) -> None:
    page = await client.get("/support")
    assert page.status_code == 200
    assert "<title>Vad gäller din fråga? –" in page.text
    assert page.text.count('type="radio"') == 9
    assert page.text.count("<label for=") == 9
    assert 'href="/tillganglighet"' in page.text
    assert "error-summary" not in page.text


async def test_no_answer_shows_the_error_summary_and_the_error_beside_the_field(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/support", params={"step": 1})
    assert page.status_code == 422
    assert "<title>Fel: Vad gäller din fråga?" in page.text
    assert re.search(r'class="error-summary"[^>]*tabindex="-1" autofocus', page.text)
    assert '<a href="#issue_type">Välj vad din fråga gäller.</a>' in page.text
    assert 'id="issue_type-error"' in page.text
    assert 'aria-describedby="issue_type-hint issue_type-error"' in page.text
    assert 'id="issue_type" name="issue_type"' in page.text


PATHS = [
    (LOGIN_STEP1, "Migrationsverkets kontaktcenter (kommuner)", True, "etjanstkommuner@"),
    (
        LOGIN_STEP1 | {"organisation": "region:14"},
        "Migrationsverkets kontaktcenter (regioner)",
        True,
        "halsoundersokningar-melker@",
    ),
    (
        {
            "issue_type": "login",
            "organisation": "region:01",
            "login_step": "2",
            "login_method": "siths_eid_this_device",
        },
        "Din kommuns eller regions egen IT-support",
        False,
        "Ineras support",
    ),
    (
        {
            "issue_type": "login",
            "organisation": "kommun:0180",
            "login_step": "2",
            "login_method": "siths_card_netid",
        },
        "Din kommuns eller regions egen IT-support",
        False,
        "upphörde efter den 31 januari 2024",
    ),
    (
        {"issue_type": "permissions", "organisation": "kommun:0180"},
        "Administratören för Migrationsverkets e-tjänster",
        False,
        "inte rätt behörighet",
    ),
    (SEA, "Statlig ersättning för asylsökande (SEA)", True, "010-203 33 94"),
    (
        SEA | {"compensation": "grupp:nyanlanda"},
        "Statlig ersättning nyanlända (SEN)",
        True,
        "statsbidragsfunktionen@",
    ),
    (
        {"issue_type": "eservice_general", "organisation": "region:25"},
        "Administratören för Migrationsverkets e-tjänster",
        False,
        "Om det inte hjälper",
    ),
    ({"issue_type": "browser"}, "Migrationsverkets sidor", False, "Internet Explorer"),
    ({"issue_type": "not_eservice"}, "Migrationsverkets sidor", False, "statlig ersättning"),
    ({"issue_type": "education_periods"}, "fyraveckorsperiod", False, "MIGRF 2020:13"),
    ({"issue_type": "notifications"}, "Fliken Notifieringar", False, "Notifieringar"),
    ({"issue_type": "getting_started"}, "informationsträffar", False, "användarmanualen"),
]


@pytest.mark.parametrize(("answers", "primary", "ticket", "shown"), PATHS)
async def test_each_path_reaches_its_result(
    client: httpx.AsyncClient, answers: dict[str, str], primary: str, ticket: bool, shown: str
) -> None:
    page = await client.get("/support", params=answers)
    assert page.status_code == 200
    body = main_of(page)
    assert "<title>Här får du hjälp" in page.text
    assert primary in body
    assert shown in body
    assert ("Skicka din fråga till Migrationsverket" in body) is ticket
    assert ('name="screenshot"' in body) is (answers.get("login_step") == "1")
    assert ('name="diarienummer"' in body) is (answers["issue_type"] == "compensation")


async def test_only_the_questions_that_matter_are_asked(client: httpx.AsyncClient) -> None:
    login = await client.get("/support", params={"step": 1, "issue_type": "login"})
    assert 'name="organisation"' in login.text and 'name="login_step"' in login.text
    assert 'name="compensation"' not in login.text
    step2 = await client.get("/support", params=LOGIN_STEP1 | {"login_step": "2", "step": 2})
    assert 'name="login_method"' in step2.text and "<select" not in step2.text
    money = await client.get("/support", params={"step": 1, "issue_type": "compensation"})
    assert 'name="compensation"' in money.text and 'name="login_step"' not in money.text
    assert money.text.count("<option value=") == 1 + 290 + 21


async def test_step_two_errors_keep_the_answers_given(client: httpx.AsyncClient) -> None:
    page = await client.get(
        "/support", params={"issue_type": "login", "organisation": "kommun:1480", "step": 2}
    )
    assert page.status_code == 422
    assert '<a href="#login_step">' in page.text
    assert '<a href="#organisation">' not in page.text
    assert '<option value="kommun:1480" selected>Göteborg</option>' in page.text
    assert '<input type="hidden" name="issue_type" value="login">' in page.text


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"issue_type": "login"}, "organisation", "Välj den kommun eller region"),
        ({"issue_type": "login", "organisation": "kommun:9999"}, "organisation", "Välj den"),
        ({"issue_type": "login", "organisation": "region:02"}, "organisation", "Välj den"),
        ({"issue_type": "compensation"}, "compensation", "Välj vilken ersättning"),
        ({"issue_type": "login", "login_step": "3"}, "login_step", "Välj i vilket steg"),
        (
            {"issue_type": "login", "organisation": "k" * 17},
            "organisation",
            "Svaret får vara högst 16",
        ),
    ],
)
async def test_each_invalid_answer_has_its_message(
    client: httpx.AsyncClient, answers: dict[str, str], field: str, message: str
) -> None:
    page = await client.get("/support", params=answers | {"step": 2})
    assert page.status_code == 422
    assert f'<a href="#{field}">{message}' in page.text
    assert f'id="{field}-error"' in page.text


async def test_an_unknown_issue_type_is_an_error_not_a_crash(client: httpx.AsyncClient) -> None:
    page = await client.get("/support", params={"issue_type": "<script>", "step": 1})
    assert page.status_code == 422
    assert "<script>" not in page.text


async def test_step_three_asks_for_the_login_method(client: httpx.AsyncClient) -> None:
    page = await client.get("/support", params=LOGIN_STEP1 | {"login_step": "2", "step": 3})
    assert page.status_code == 422
    assert '<a href="#login_method">Välj vilket inloggningsalternativ' in page.text


async def test_change_links_reopen_a_step_with_its_answer(client: httpx.AsyncClient) -> None:
    result = await client.get("/support", params=LOGIN_STEP1)
    change = re.search(r'href="(/support\?[^"]*visa=1)"', result.text)
    assert change
    page = await client.get(change.group(1).replace("&amp;", "&"))
    assert 'value="login" checked' in page.text
    assert '<input type="hidden" name="login_step" value="1">' in page.text


@pytest.mark.parametrize(
    ("now", "shown"),
    [
        (datetime(2026, 3, 2, 9, 30, tzinfo=UTC), "Öppen nu"),  # Monday 10.30 in Stockholm
        (datetime(2026, 3, 7, 9, 30, tzinfo=UTC), "Öppnar måndag 9 mars kl. 09.00"),
    ],
)
async def test_the_result_says_whether_the_phone_is_open(
    client: httpx.AsyncClient, services: Services, now: datetime, shown: str
) -> None:
    services.clock = lambda: now
    page = await client.get("/support", params=SEA)
    assert shown in page.text


async def test_a_ticket_is_opened_and_its_reference_shown(
    client: httpx.AsyncClient, services: Services
) -> None:
    sent = await submit_ticket(
        client, SEA, diarienummer="1.1.3-2026-123456", case_officer="Anna Berg"
    )
    assert sent.status_code == 303
    receipt = await client.get(sent.headers["location"])
    [ticket] = await all_tickets(services)
    assert ticket.destination == "sea"
    assert ticket.inquiry["diarienummer"] == "1.1.3-2026-123456"
    assert ticket.inquiry["email"] == "anna.berg@stockholm.se"
    assert f'id="reference">{ticket.reference}<' in receipt.text


@pytest.mark.parametrize(("image", "kind"), [(PNG, "image/png"), (JPEG, "image/jpeg")])
async def test_a_screenshot_is_stored_with_the_ticket(
    client: httpx.AsyncClient, services: Services, image: bytes, kind: str
) -> None:
    # The name and the declared type lie; the content decides.
    files = {"screenshot": ("notes.txt", image, "text/plain")}
    sent = await submit_ticket(client, LOGIN_STEP1, files=files)
    assert sent.status_code == 303
    [ticket] = await all_tickets(services)
    async with services.sessions() as session:
        [stored] = (await session.exec(select(Attachment))).all()
    assert (stored.ticket_id, stored.content_type) == (ticket.id, kind)
    assert stored.data[:3] == image[:3]  # re-encoded, in the format it came in


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"GIF89a" + b"\x00" * 64, "PNG eller JPEG"),
        (b"just text, named .png", "PNG eller JPEG"),
        (PNG + b"\x00" * (5 * 1024 * 1024), "högst 5 MB"),
    ],
)
async def test_a_screenshot_that_is_no_image_or_too_big_is_refused(
    client: httpx.AsyncClient, services: Services, content: bytes, message: str
) -> None:
    files = {"screenshot": ("skarmbild.png", content, "image/png")}
    page = await submit_ticket(client, LOGIN_STEP1, files=files)
    assert page.status_code == 422
    assert '<a href="#screenshot">' in page.text and message in page.text
    assert await all_tickets(services) == []


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"email": "", "message": ""}, ["Ange din e-postadress", "Beskriv kort"]),
        ({"email": "inte-en-adress"}, ["Ange en e-postadress i rätt format"]),
        ({"message": "x" * 5001}, ["högst 5000 tecken"]),
        ({"name": "x" * 201}, ["högst 200 tecken"]),
    ],
)
async def test_ticket_errors_keep_what_was_written(
    client: httpx.AsyncClient, services: Services, fields: dict[str, str], errors: list[str]
) -> None:
    page = await submit_ticket(client, SEA, diarienummer="1.1.3-2026-1", **fields)
    assert page.status_code == 422
    assert "<title>Fel: Här får du hjälp" in page.text
    for error in errors:
        assert error in page.text
    assert 'value="1.1.3-2026-1"' in page.text
    assert '<input type="hidden" name="compensation" value="dygnsschablon-ensamkommande">' in (
        page.text
    )
    assert await all_tickets(services) == []


async def test_a_post_without_our_csrf_token_is_refused(
    client: httpx.AsyncClient, services: Services
) -> None:
    missing = await client.post("/support/arende", data=LOGIN_STEP1 | DETAILS)
    await client.get("/support")  # the browser now holds a cookie
    forged = await client.post(
        "/support/arende", data=LOGIN_STEP1 | DETAILS | {"csrf_token": "forged"}
    )
    assert (missing.status_code, forged.status_code) == (403, 403)
    assert "Formuläret har gått ut" in forged.text
    assert await all_tickets(services) == []


async def test_a_token_from_another_browser_is_refused(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = csrf_of(await client.get("/support", params=SEA))
    client.cookies.clear()
    await client.get("/support")  # a new browser, a new cookie
    page = await client.post("/support/arende", data=SEA | DETAILS | {"csrf_token": token})
    assert page.status_code == 403
    assert await all_tickets(services) == []


async def test_the_honeypot_stops_a_bot(client: httpx.AsyncClient, services: Services) -> None:
    page = await submit_ticket(client, SEA, website="https://spam.example")
    assert page.status_code == 400
    assert await all_tickets(services) == []


async def test_no_ticket_where_the_route_is_not_migrationsverkets(
    client: httpx.AsyncClient, services: Services
) -> None:
    token = csrf_of(await client.get("/support", params=SEA))
    answers = {"issue_type": "permissions", "organisation": "kommun:0180"}
    page = await client.post("/support/arende", data=answers | DETAILS | {"csrf_token": token})
    assert page.status_code == 400
    assert await all_tickets(services) == []


async def test_tampered_answers_open_no_ticket(
    client: httpx.AsyncClient, services: Services
) -> None:
    page = await submit_ticket(client, LOGIN_STEP1, organisation="kommun:0000")
    assert page.status_code == 400
    assert await all_tickets(services) == []


async def test_pages_carry_headers_that_keep_them_to_themselves(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/support")
    assert "script-src" not in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "httponly" in page.headers["set-cookie"].lower()


async def test_the_accessibility_statement_is_there(client: httpx.AsyncClient) -> None:
    page = await client.get("/tillganglighet")
    assert page.status_code == 200
    assert "lagen (2018:1937) om tillgänglighet till digital offentlig service" in page.text
    css = await client.get("/assets/site.css")
    assert css.headers["content-type"].startswith("text/css")
