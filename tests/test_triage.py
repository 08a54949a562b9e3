"""The triage desk: staff credentials, the JSON API and the HTML pages."""

import re
from typing import Any

import httpx
import pytest

from notifier.compose import Services
from routing.decision.schemas import Destination
from routing.ticketing import tickets
from tests.factories import tiny_image
from tests.test_web_form import LOGIN_STEP1, SEA, csrf_of, submit_ticket

# Every queue, named one by one: an account sees only the queues it is given.
EVERY_QUEUE = [str(destination) for destination in Destination]


async def mint(
    client: httpx.AsyncClient, admin: dict[str, str], **body: Any
) -> tuple[str, dict[str, str]]:
    """A staff account working every queue, unless `body` says otherwise."""
    defaults = {"name": "Karin Ek", "destinations": EVERY_QUEUE}
    answer = await client.post("/api/v1/staff", json=defaults | body, headers=admin)
    assert answer.status_code == 201, answer.text
    token = answer.json()["token"]
    return answer.json()["id"], {"Authorization": f"Bearer {token}"}


async def open_ticket(client: httpx.AsyncClient, answers: dict[str, str] = SEA) -> str:
    assert (await submit_ticket(client, answers)).status_code == 303
    queue = await client.get("/api/v1/triage/tickets", headers=await _any_staff(client))
    return str(queue.json()["tickets"][-1]["id"])


async def _any_staff(client: httpx.AsyncClient) -> dict[str, str]:
    return (await mint(client, {"Authorization": "Bearer test-admin-token"}, name="Robot"))[1]


@pytest.fixture
async def staff(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    return (await mint(client, admin))[1]


async def test_only_the_admin_mints_staff_and_the_token_is_shown_once(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    refused = await client.post("/api/v1/staff", json={"name": "X"})
    assert refused.status_code == 401
    account_id, _ = await mint(client, admin, destinations=["sea"])
    listed = (await client.get("/api/v1/staff", headers=admin)).json()
    assert [a["id"] for a in listed] == [account_id]
    assert "token" not in listed[0] and "token_hash" not in listed[0]


async def test_unauthenticated_gets_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/triage/tickets")).status_code == 401
    bad = {"Authorization": "Bearer stf_not-a-real-token"}
    assert (await client.get("/api/v1/triage/tickets", headers=bad)).status_code == 401
    page = await client.get("/triage")
    assert page.status_code == 401 and "Personalnyckel" in page.text


async def test_a_valid_token_without_the_staff_role_gets_403(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, viewer = await mint(client, admin, roles=["reporting"])
    assert (await client.get("/api/v1/triage/tickets", headers=viewer)).status_code == 403
    assert (await client.get("/api/v1/triage/tickets", headers=admin)).status_code == 403


async def test_a_revoked_token_no_longer_opens_the_desk(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    account_id, token = await mint(client, admin)
    assert (await client.get("/api/v1/triage/tickets", headers=token)).status_code == 200
    revoked = await client.delete(f"/api/v1/staff/{account_id}", headers=admin)
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/triage/tickets", headers=token)).status_code == 401


async def test_staff_of_one_destination_see_their_own_queue_by_default(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await submit_ticket(client, SEA)
    await submit_ticket(client, LOGIN_STEP1)
    _, both = await mint(client, admin, destinations=["sea", "mv_kontaktcenter_kommun"])
    _, sea = await mint(client, admin, destinations=["sea"])
    own = (await client.get("/api/v1/triage/tickets", headers=sea)).json()
    assert [t["destination"] for t in own["tickets"]] == ["sea"]
    everyone = await client.get("/api/v1/triage/tickets?destination=alla", headers=both)
    assert len(everyone.json()["tickets"]) == 2
    other = await client.get(
        "/api/v1/triage/tickets?destination=mv_kontaktcenter_kommun&status=new", headers=both
    )
    assert [t["destination"] for t in other.json()["tickets"]] == ["mv_kontaktcenter_kommun"]
    old = await client.get(
        "/api/v1/triage/tickets?destination=alla&older_than_hours=1", headers=both
    )
    assert old.json()["tickets"] == []


async def test_a_ticket_is_worked_from_claim_to_close_with_a_complete_trail(
    client: httpx.AsyncClient, staff: dict[str, str], services: Services
) -> None:
    ticket_id = await open_ticket(client)
    base = f"/api/v1/triage/tickets/{ticket_id}"
    claimed = await client.post(f"{base}/claim", headers=staff)
    assert claimed.json()["status"] == "in_progress"
    assert claimed.json()["assignee"] == "staff:Karin Ek"
    note = await client.post(f"{base}/notes", json={"text": "Ringde upp."}, headers=staff)
    assert note.status_code == 200
    answered = await client.post(f"{base}/answer", json={"text": "Så här gör du."}, headers=staff)
    assert answered.json()["status"] == "answered"
    closed = await client.post(f"{base}/close", json={"text": "Klart."}, headers=staff)
    assert closed.json()["status"] == "closed"
    detail = (await client.get(base, headers=staff)).json()
    trail = [(e["actor"], e["action"], e["reason"]) for e in detail["events"]]
    assert trail == [
        ("webbformulär", "created", None),
        ("staff:Karin Ek", "assigned", None),
        ("staff:Karin Ek", "status", None),
        ("staff:Karin Ek", "note", "Ringde upp."),
        ("staff:Karin Ek", "status", "Så här gör du."),
        ("staff:Karin Ek", "status", "Klart."),
    ]
    again = await client.post(f"{base}/claim", headers=staff)
    assert again.status_code == 409


@pytest.mark.parametrize("reason", [None, "", "   "])
async def test_a_reroute_needs_a_reason(
    client: httpx.AsyncClient, staff: dict[str, str], reason: str | None
) -> None:
    ticket_id = await open_ticket(client)
    body: dict[str, Any] = {"destination": "sen"} | ({} if reason is None else {"reason": reason})
    refused = await client.post(
        f"/api/v1/triage/tickets/{ticket_id}/reroute", json=body, headers=staff
    )
    assert refused.status_code == 422
    detail = (await client.get(f"/api/v1/triage/tickets/{ticket_id}", headers=staff)).json()
    assert detail["destination"] == "sea"
    assert [e["action"] for e in detail["events"]] == ["created"]


async def test_a_reroute_records_the_new_decision_beside_the_old(
    client: httpx.AsyncClient, staff: dict[str, str], services: Services
) -> None:
    ticket_id = await open_ticket(client)
    moved = await client.post(
        f"/api/v1/triage/tickets/{ticket_id}/reroute",
        json={"destination": "sen", "reason": "Gäller nyanlända."},
        headers=staff,
    )
    assert moved.status_code == 200
    detail = (await client.get(f"/api/v1/triage/tickets/{ticket_id}", headers=staff)).json()
    assert detail["destination"] == "sen"
    assert detail["decision"]["primary"]["destination"] == "sea"  # the original, kept
    rerouted = detail["events"][-1]
    assert rerouted["reason"] == "Gäller nyanlända."
    assert rerouted["detail"]["decision"]["primary"]["destination"] == "sen"
    assert rerouted["detail"]["decision"]["rule"]["id"] == "staff-reroute"


async def test_staff_see_the_screenshot(client: httpx.AsyncClient, staff: dict[str, str]) -> None:
    image = tiny_image("PNG")
    await submit_ticket(client, LOGIN_STEP1, files={"screenshot": ("a.png", image, "image/png")})
    [ticket] = (await client.get("/api/v1/triage/tickets", headers=staff)).json()["tickets"]
    detail = (await client.get(f"/api/v1/triage/tickets/{ticket['id']}", headers=staff)).json()
    [meta] = detail["attachments"]
    got = await client.get(
        f"/api/v1/triage/tickets/{ticket['id']}/attachments/{meta['id']}", headers=staff
    )
    assert (got.content[:8], got.headers["content-type"]) == (image[:8], "image/png")


async def login(client: httpx.AsyncClient, token_header: dict[str, str]) -> httpx.Response:
    form = await client.get("/triage/logga-in")
    token = token_header["Authorization"].removeprefix("Bearer ")
    return await client.post("/triage/logga-in", data={"token": token, "csrf_token": csrf_of(form)})


async def test_the_html_desk_works_a_ticket(
    client: httpx.AsyncClient, staff: dict[str, str], services: Services
) -> None:
    await submit_ticket(client, SEA)
    assert (await login(client, staff)).status_code == 303
    queue = await client.get("/triage")
    assert queue.status_code == 200
    link = re.search(r'href="(/triage/arenden/[^"]+)">(SUP-\w+)<', queue.text)
    assert link
    page = await client.get(link.group(1))
    token = csrf_of(page)
    claimed = await client.post(f"{link.group(1)}/claim", data={"csrf_token": token})
    assert claimed.status_code == 303
    no_reason = await client.post(
        f"{link.group(1)}/reroute", data={"csrf_token": token, "destination": "sen"}
    )
    assert no_reason.status_code == 422
    assert '<a href="#reroute_text">Ange varför' in no_reason.text
    note = await client.post(
        f"{link.group(1)}/note", data={"csrf_token": token, "note_text": "Intern."}
    )
    closed = await client.post(f"{link.group(1)}/close", data={"csrf_token": token})
    assert (note.status_code, closed.status_code) == (303, 303)
    final = await client.get(closed.headers["location"])
    assert "Ärendet är stängt." in final.text and ">Stängd<" in final.text
    async with services.sessions() as session:
        [ticket] = await tickets.list_tickets(session=session)
        actions = [e.action for e in await tickets.events(session=session, ticket_id=ticket.id)]
    assert actions == ["created", "assigned", "status", "note", "status"]


async def test_html_posts_without_csrf_are_refused(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    ticket_id = await open_ticket(client)
    await login(client, staff)
    refused = await client.post(f"/triage/arenden/{ticket_id}/claim", data={})
    assert refused.status_code == 403
    no_login = await client.post(
        "/triage/logga-in", data={"token": staff["Authorization"][7:], "csrf_token": "x"}
    )
    assert no_login.status_code == 403


async def test_a_wrong_token_on_the_login_page_is_an_error(client: httpx.AsyncClient) -> None:
    page = await login(client, {"Authorization": "Bearer stf_wrong"})
    assert page.status_code == 401
    assert "<title>Fel: Logga in" in page.text
    assert '<a href="#token">Nyckeln är fel eller spärrad.</a>' in page.text


async def test_a_non_staff_account_cannot_log_in(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, viewer = await mint(client, admin, roles=[])
    assert (await login(client, viewer)).status_code == 403
