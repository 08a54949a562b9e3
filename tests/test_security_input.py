"""Control characters (issue 10, #1 and #9): refused with a 4xx wherever text comes in,
never a 500 on PostgreSQL, and never a forged line in a forwarded ticket."""

import httpx
import pytest

from domain.text import text_error
from notifier.compose import Services
from notifier.kinds.tickets import render
from routing.ticketing.models import Ticket
from tests.factories import user_body
from tests.test_forwarding import ticket as forwarded_ticket
from tests.test_support_api import count
from tests.test_support_api_idempotency import SEA_QUESTION
from tests.test_triage import login, mint, open_ticket
from tests.test_web_form import SEA, csrf_of, submit_ticket

FORGED = "x\r\nE-post: attacker@evil.example"


@pytest.mark.parametrize(
    ("value", "multiline", "refused"),
    [
        ("Anna Berg", False, False),
        ("tab\there", False, False),
        ("hej\x00", False, True),
        ("hej\x00", True, True),
        ("rad ett\nrad två", True, False),
        ("rad ett\r\nrad två", True, False),
        ("rad ett\nrad två", False, True),
        ("x\u2028y", False, True),
        ("bell\x07", True, True),
        ("c1\x85", False, True),
        ("del\x7f", True, True),
    ],
)
def test_text_rule_refuses_control_characters(value: str, multiline: bool, refused: bool) -> None:
    assert (text_error(value, multiline=multiline) is not None) is refused


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("message", "hej\x00"),
        ("name", "Anna\x00"),
        ("diarienummer", "1.1\x00"),
        ("case_officer", "Anna\x1b[31m"),
        ("browser", "Mozilla\x00"),
        ("name", FORGED),
        ("diarienummer", "1.1.3\nE-post: x@evil.example"),
        ("case_officer", "Anna\rBerg"),
    ],
)
async def test_api_ticket_with_a_control_character_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, field: str, value: str
) -> None:
    response = await client.post("/api/v1/support/tickets", json=SEA_QUESTION | {field: value})
    assert response.status_code == 422
    assert field in {str(part) for error in response.json()["detail"] for part in error["loc"]}
    assert await count(services, Ticket) == 0


async def test_a_multi_line_message_is_still_accepted(
    client: httpx.AsyncClient, services: Services
) -> None:
    body = SEA_QUESTION | {"message": "Rad ett.\r\n\tRad två."}
    assert (await client.post("/api/v1/support/tickets", json=body)).status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [("message", "hej\x00"), ("name", FORGED), ("email", "a\x00@b.se"), ("diarienummer", "1\n2")],
)
async def test_web_form_with_a_control_character_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, field: str, value: str
) -> None:
    response = await submit_ticket(client, SEA, **{field: value})
    assert response.status_code == 422
    assert f'href="#{field}"' in response.text
    assert await count(services, Ticket) == 0


async def test_web_form_keeps_a_user_agent_with_odd_bytes(
    client: httpx.AsyncClient, services: Services
) -> None:
    client.headers["User-Agent"] = "Mozilla\x85/5.0\tX"
    assert (await submit_ticket(client, SEA)).status_code == 303
    assert (await client.get("/support", params=SEA)).status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/v1/users/u%00x", "/api/v1/users/u%0Ax", "/api/v1/users/u%C2%85x"]
)
async def test_admin_path_with_a_control_character_is_400(
    client: httpx.AsyncClient, admin: dict[str, str], path: str
) -> None:
    response = await client.put(path, json=user_body(), headers=admin)
    assert response.status_code == 400
    assert "otillåtna tecken" in response.json()["detail"]
    assert (await client.get(path, headers=admin)).status_code == 400


async def test_admin_user_name_with_nul_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.put(
        "/api/v1/users/u-1", json=user_body(name="Anna\x00Berg"), headers=admin
    )
    assert response.status_code == 422


@pytest.mark.parametrize("name", ["Karin\x00", "Karin\r\nAdmin"])
async def test_staff_name_with_a_control_character_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], name: str
) -> None:
    response = await client.post("/api/v1/staff", json={"name": name}, headers=admin)
    assert response.status_code == 422


async def test_triage_filters_and_notes_with_nul_are_4xx(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ticket_id = await open_ticket(client)
    _, staff = await mint(client, admin)
    queue = await client.get("/api/v1/triage/tickets?destination=sea%00", headers=staff)
    assert queue.status_code == 400
    one = await client.get(f"/api/v1/triage/tickets/{ticket_id}%00", headers=staff)
    assert one.status_code == 400
    note = await client.post(
        f"/api/v1/triage/tickets/{ticket_id}/notes", json={"text": "hej\x00"}, headers=staff
    )
    assert note.status_code == 422
    reroute = await client.post(
        f"/api/v1/triage/tickets/{ticket_id}/reroute",
        json={"destination": "sen", "reason": "fel\x00"},
        headers=staff,
    )
    assert reroute.status_code == 422


async def test_triage_page_note_with_nul_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ticket_id = await open_ticket(client)
    _, staff = await mint(client, admin)
    assert (await login(client, staff)).status_code == 303
    page = await client.get(f"/triage/arenden/{ticket_id}")
    note = await client.post(
        f"/triage/arenden/{ticket_id}/note",
        data={"csrf_token": csrf_of(page), "note_text": "hej\x00"},
    )
    assert note.status_code == 422
    assert "otillåtna tecken" in note.text
    assert (await client.get("/triage?mottagare=sea%00")).status_code == 400


async def test_staff_with_a_200_character_name_can_work_a_ticket(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services
) -> None:
    ticket_id = await open_ticket(client)
    _, long_named = await mint(client, admin, name="Å" * 200)
    _, twin = await mint(client, admin, name="Å" * 200)
    claim = f"/api/v1/triage/tickets/{ticket_id}/claim"
    assert (await client.post(claim, headers=long_named)).status_code == 200
    note = f"/api/v1/triage/tickets/{ticket_id}/notes"
    assert (await client.post(note, json={"text": "Ok."}, headers=twin)).status_code == 200
    trail = (await client.get(f"/api/v1/triage/tickets/{ticket_id}", headers=twin)).json()
    actors = [e["actor"] for e in trail["events"] if e["actor"].startswith("staff:")]
    assert all(len(actor) <= 128 for actor in actors)
    assert len(set(actors)) == 2  # two people with one long name stay two in the trail


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\u2028", "\x85"])
def test_a_stored_line_break_forges_no_line_in_the_forward(breaker: str) -> None:
    stored = forwarded_ticket()
    stored.inquiry = stored.inquiry | {"name": f"x{breaker}E-post: attacker@evil.example"}
    _, body = render(stored)
    assert not [line for line in body.splitlines() if line.startswith("E-post: attacker")]
    assert "Namn: x E-post: attacker@evil.example" in body
