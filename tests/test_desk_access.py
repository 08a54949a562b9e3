"""Who sees which queue: a staff account's `destinations` bound every read and action of
the desk, API and pages; another destination's ticket does not exist for it (404). The
role `operator`, granted explicitly, sees every queue."""

from typing import Any

import httpx
import pytest

from notifier.compose import Services
from tests.factories import tiny_image
from tests.test_triage import login, mint
from tests.test_web_form import LOGIN_STEP1, csrf_of, submit_ticket

API = "/api/v1/triage/tickets/{id}"
PAGE = "/triage/arenden/{id}"

# Every desk endpoint that names a ticket: method, path, JSON or form body.
API_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", API, None),
    ("GET", API + "/attachments/{attachment}", None),
    ("POST", API + "/claim", None),
    ("POST", API + "/notes", {"text": "Intern."}),
    ("POST", API + "/answer", {"text": "Så här gör du."}),
    ("POST", API + "/close", {"text": "Klart."}),
    ("POST", API + "/reroute", {"destination": "sen", "reason": "Gäller nyanlända."}),
]
PAGE_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", PAGE, None),
    ("GET", PAGE + "?svar=x", None),
    ("GET", PAGE + "/bilagor/{attachment}", None),
    ("POST", PAGE + "/claim", {}),
    ("POST", PAGE + "/note", {"note_text": "Intern."}),
    ("POST", PAGE + "/answer", {"answer_text": "Så här gör du."}),
    ("POST", PAGE + "/close", {}),
    ("POST", PAGE + "/reroute", {"destination": "sen", "reroute_text": "Gäller nyanlända."}),
]


async def kommun_ticket(client: httpx.AsyncClient, admin: dict[str, str]) -> tuple[str, str]:
    """A ticket of kontaktcenter's kommun queue with a screenshot: its id and its
    attachment's id."""
    screenshot = {"screenshot": ("a.png", tiny_image("PNG"), "image/png")}
    assert (await submit_ticket(client, LOGIN_STEP1, files=screenshot)).status_code == 303
    _, operator = await mint(client, admin, name="Drift", roles=["staff", "operator"])
    [ticket] = (await client.get("/api/v1/triage/tickets", headers=operator)).json()["tickets"]
    detail = (await client.get(API.format(id=ticket["id"]), headers=operator)).json()
    return ticket["id"], detail["attachments"][0]["id"]


async def trail_of(client: httpx.AsyncClient, admin: dict[str, str], ticket_id: str) -> list[str]:
    _, operator = await mint(client, admin, name="Granskare", roles=["operator"])
    detail = (await client.get(API.format(id=ticket_id), headers=operator)).json()
    return [event["action"] for event in detail["events"]]


@pytest.mark.parametrize(("method", "path", "body"), API_CALLS)
async def test_another_destinations_ticket_is_a_404_on_the_api(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    ticket_id, attachment_id = await kommun_ticket(client, admin)
    _, other = await mint(client, admin, destinations=["sea"])
    url = path.format(id=ticket_id, attachment=attachment_id)
    answer = await client.request(method, url, json=body, headers=other)
    assert answer.status_code == 404, answer.text
    assert "Karin" not in answer.text and "ärende" in answer.text.lower()
    assert await trail_of(client, admin, ticket_id) == ["created"]


@pytest.mark.parametrize(("method", "path", "body"), PAGE_CALLS)
async def test_another_destinations_ticket_is_a_404_on_the_pages(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    ticket_id, attachment_id = await kommun_ticket(client, admin)
    _, other = await mint(client, admin, destinations=["sea"])
    assert (await login(client, other)).status_code == 303
    url = path.format(id=ticket_id, attachment=attachment_id)
    if body is not None:
        body = body | {"csrf_token": csrf_of(await client.get("/triage"))}
    answer = await client.request(method, url, data=body)
    assert answer.status_code == 404, answer.text
    assert await trail_of(client, admin, ticket_id) == ["created"]


@pytest.mark.parametrize(
    "query", ["", "?destination=alla", "?destination=mv_kontaktcenter_kommun", "?q=SUP"]
)
async def test_the_list_and_the_stats_hold_only_your_own_queues(
    client: httpx.AsyncClient, admin: dict[str, str], query: str
) -> None:
    await kommun_ticket(client, admin)
    _, other = await mint(client, admin, destinations=["sea"])
    listed = await client.get(f"/api/v1/triage/tickets{query}", headers=other)
    assert listed.json()["tickets"] == []
    stats = (await client.get("/api/v1/triage/stats", headers=other)).json()
    assert stats["queues"] == {} and sum(day["opened"] for day in stats["days"]) == 0
    await login(client, other)
    page = await client.get(f"/triage{query.replace('destination', 'mottagare')}")
    assert page.status_code == 200 and "SUP-" not in page.text


async def test_no_destinations_and_no_role_sees_no_queue(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await kommun_ticket(client, admin)
    _, nobody = await mint(client, admin, destinations=[])
    everyone = await client.get("/api/v1/triage/tickets?destination=alla", headers=nobody)
    assert everyone.json()["tickets"] == []


async def test_an_operator_sees_and_works_every_queue(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services
) -> None:
    ticket_id, attachment_id = await kommun_ticket(client, admin)
    _, operator = await mint(client, admin, roles=["operator"], destinations=["sen"])
    own = await client.get("/api/v1/triage/tickets", headers=operator)
    assert own.json()["tickets"] == []  # by default, the operator's own queue
    everyone = await client.get("/api/v1/triage/tickets?destination=alla", headers=operator)
    assert [t["id"] for t in everyone.json()["tickets"]] == [ticket_id]
    stats = (await client.get("/api/v1/triage/stats", headers=operator)).json()
    assert stats["queues"]["mv_kontaktcenter_kommun"]["open"] == 1
    for method, path, body in API_CALLS:
        url = path.format(id=ticket_id, attachment=attachment_id)
        answer = await client.request(method, url, json=body, headers=operator)
        assert answer.status_code in (200, 409), (path, answer.text)
    assert (await trail_of(client, admin, ticket_id))[:3] == ["created", "assigned", "status"]


async def test_a_page_reroute_out_of_your_queues_returns_you_to_the_queue(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ticket_id, _ = await kommun_ticket(client, admin)
    _, kommun = await mint(client, admin, destinations=["mv_kontaktcenter_kommun"])
    await login(client, kommun)
    token = csrf_of(await client.get(PAGE.format(id=ticket_id)))
    moved = await client.post(
        PAGE.format(id=ticket_id) + "/reroute",
        data={"csrf_token": token, "destination": "sen", "reroute_text": "Nyanlända."},
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/triage?klart=reroute"
    assert (await client.get(PAGE.format(id=ticket_id))).status_code == 404


async def test_roles_are_shown_and_an_operator_is_minted_by_the_admin(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    minted = await client.post(
        "/api/v1/staff", json={"name": "Olle Drift", "roles": ["operator"]}, headers=admin
    )
    assert minted.status_code == 201 and minted.json()["roles"] == ["operator"]
    listed = (await client.get("/api/v1/staff", headers=admin)).json()
    assert listed[0]["roles"] == ["operator"]
