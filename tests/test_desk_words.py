"""The desk as people read it (issue 26): names, not actor ids; Swedish time, not UTC;
the login page a column; headings clear of the header bar."""

import re
from datetime import UTC, datetime
from importlib.resources import files

import httpx
from sqlmodel import col, select, update

from notifier.compose import Services
from routing.ticketing.models import Ticket, TicketEvent
from routing.web.webtext import who
from tests.test_triage import login, mint
from tests.test_web_form import SEA, csrf_of, submit_ticket


def test_actor_ids_read_as_names() -> None:
    assert who("staff:Karin Ek") == "Karin Ek"
    assert who("system") == "Systemet"
    assert who("webbformulär") == "Webbformuläret"
    assert who("anna.berg@stockholm.se") == "anna.berg@stockholm.se"
    assert who(None) == "–"


async def test_the_desk_names_people_and_shows_swedish_time(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services
) -> None:
    await submit_ticket(client, SEA)
    _, staff = await mint(client, admin, destinations=["sea"])
    assert (await login(client, staff)).status_code == 303
    queue = await client.get("/triage")
    link = re.search(r'href="(/triage/arenden/[^"]+)">', queue.text)
    assert link
    page = await client.get(link.group(1))
    await client.post(f"{link.group(1)}/claim", data={"csrf_token": csrf_of(page)})
    # 18.44 UTC on 26 November is 19.44 in Stockholm.
    moment = datetime(2026, 11, 26, 18, 44, tzinfo=UTC)
    async with services.sessions() as session:
        await session.exec(update(Ticket).values(created_at=moment))  # type: ignore[call-overload]
        await session.exec(update(TicketEvent).values(at=moment))  # type: ignore[call-overload]
        await session.commit()

    for shown in ((await client.get("/triage")).text, (await client.get(link.group(1))).text):
        assert "staff:" not in shown and "Karin Ek" in shown
    ticket = (await client.get(link.group(1))).text
    assert "2026-11-26 19.44" in ticket and "18.44" not in ticket
    async with services.sessions() as session:
        actors = set((await session.exec(select(col(TicketEvent.actor)))).all())
    assert "staff:Karin Ek" in actors  # the trail itself keeps the ids


async def test_the_login_page_is_a_column_and_headings_clear_the_header(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/triage/logga-in")
    assert page.status_code == 200 and 'class="column"' in page.text
    assert 'name="token"' in page.text.split('class="column"', 1)[1]
    css = files("templates").joinpath("web", "static", "site.css").read_text()
    assert re.search(r"\.column \{ max-width: 3\drem; \}", css)
    # `main` carries .width, whose padding would otherwise win over main's own.
    rule = re.search(r"main, main\.width \{([^}]*)\}", css)
    assert rule and "padding-top: 2rem" in rule.group(1)
