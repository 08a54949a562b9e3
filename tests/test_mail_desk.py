"""Email tickets on the triage desk: the subject as the title, the routing words marked,
the screenshot inline, the time left to the promised answer, and the stats that count
answers in time and re-routed email tickets per rule."""

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from notifier.compose import Services
from routing.decision.rules import default_rules
from routing.ticketing.models import Ticket
from routing.ticketing.stats import Clock, left_label, time_left
from routing.web.webtext import highlight
from tests import test_inbound
from tests.test_inbound import send, tiny_png
from tests.test_mail_questions import KOMMUN, SEA, question, settings  # noqa: F401
from tests.test_triage import login, mint

inbound = test_inbound.inbound
STEP_ONE = "Jag kommer inte in. När jag väljer E-tjänstelegitimation blir det <fel>."


async def test_the_desk_shows_the_mail_with_its_routing_words_and_screenshot(
    client: httpx.AsyncClient, admin: dict[str, str], inbound: int
) -> None:
    await send(inbound, question(KOMMUN, "Inloggning <brådskande>", STEP_ONE, images=[tiny_png()]))
    staff = (await mint(client, admin))[1]
    await login(client, staff)
    queue = (await client.get("/triage?mottagare=alla")).text
    assert "Inloggning &lt;brådskande&gt;" in queue and "E-post" in queue
    assert re.search(r'class="time-left">(\d+ d )?\d+ tim kvar<', queue)
    [ticket] = (await client.get("/api/v1/triage/tickets", params={"destination": "alla"},
                                 headers=staff)).json()["tickets"]  # fmt: skip
    page = (await client.get(f"/triage/arenden/{ticket['id']}")).text
    assert '<h1 id="ticket-title"><mark>Inloggning</mark> &lt;brådskande&gt;</h1>' in page
    assert "<mark>E-tjänstelegitimation</mark> blir det &lt;fel&gt;." in page
    assert 'id="routing-words"' in page and "login-step1-words" in page
    [image] = ticket_images(page)
    assert (await client.get(image)).headers["content-type"] == "image/png"


def ticket_images(page: str) -> list[str]:
    return [part.split('"')[0] for part in page.split('<img class="screenshot" src="')[1:]]


async def test_the_stats_count_rerouted_email_tickets_per_rule(
    client: httpx.AsyncClient, admin: dict[str, str], inbound: int
) -> None:
    await send(inbound, question(SEA, "Utbetalning", "Dygnsschablonen saknas för mars."))
    await send(inbound, question(KOMMUN, "Inloggning", STEP_ONE))
    staff = (await mint(client, admin))[1]
    found = await client.get(
        "/api/v1/triage/tickets", params={"destination": "alla"}, headers=staff
    )
    sea = next(t for t in found.json()["tickets"] if t["destination"] == "sea")
    move = {"destination": "sen", "reason": "Gäller nyanlända."}
    await client.post(f"/api/v1/triage/tickets/{sea['id']}/reroute", json=move, headers=staff)
    stats = (await client.get("/api/v1/triage/stats", headers=staff)).json()
    assert stats["rerouted_email_by_rule"] == {"compensation-sea": 1}
    detail = (await client.get(f"/api/v1/triage/tickets/{sea['id']}", headers=staff)).json()
    assert [e["reason"] for e in detail["events"] if e["action"] == "rerouted"] == [
        "Gäller nyanlända."
    ]


async def test_the_share_answered_in_time_per_destination(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, inbound: int
) -> None:
    for subject in ("Utbetalning 1", "Utbetalning 2"):
        await send(inbound, question(SEA, subject, "Dygnsschablonen saknas för mars."))
    staff = (await mint(client, admin))[1]
    async with services.sessions() as db:
        late, prompt = sorted((await db.exec(select(Ticket))).all(), key=lambda t: t.subject or "")
        late.created_at -= timedelta(days=10)  # a fortnight of working days ago: too late
        db.add(late)
        await db.commit()
    for ticket in (late, prompt):
        url = f"/api/v1/triage/tickets/{ticket.id}"
        await client.post(f"{url}/claim", headers=staff)
        await client.post(f"{url}/answer", json={"text": "Svar."}, headers=staff)
    stats = (await client.get("/api/v1/triage/stats", headers=staff)).json()
    assert stats["answered_in_time"] == {"sea": {"in_time": 1, "counted": 2, "share": 0.5}}


@pytest.mark.parametrize(
    ("created", "now", "left"),
    [
        # Monday 09:00 → two working days: due Wednesday 09:00.
        (datetime(2026, 3, 2, 8, tzinfo=UTC), datetime(2026, 3, 2, 12, tzinfo=UTC), 12.0),
        (datetime(2026, 3, 2, 8, tzinfo=UTC), datetime(2026, 3, 4, 12, tzinfo=UTC), -4.0),
        # Friday afternoon before Easter: Good Friday to Easter Monday do not count.
        (datetime(2026, 4, 2, 14, tzinfo=UTC), datetime(2026, 4, 6, 12, tzinfo=UTC), 15.0),
    ],
)
def test_time_left_counts_working_hours_and_holidays(
    created: datetime, now: datetime, left: float
) -> None:
    ticket = Ticket(id="t", reference="SUP-X", destination="sea", inquiry={}, decision={},
                    rule_id="r", rule_version="v", created_at=created)  # fmt: skip
    assert time_left(Clock(default_rules(), 2), ticket, now) == left


def test_labels_and_marks() -> None:
    assert (left_label(12.0), left_label(-4.0)) == ("1 d 4 tim kvar", "4 tim sen")
    assert str(highlight("Ineras <meny>", ["ineras"])) == "<mark>Ineras</mark> &lt;meny&gt;"


async def test_the_desk_finds_an_email_ticket_by_its_subject(
    client: httpx.AsyncClient, admin: dict[str, str], inbound: int
) -> None:
    await send(inbound, question(SEA, "Dygnsschablon oktober", "Den saknas. Dnr 1.1.3-2026-9"))
    staff = (await mint(client, admin))[1]
    params = {"destination": "alla", "q": "oktober"}
    found = (await client.get("/api/v1/triage/tickets", params=params, headers=staff)).json()
    assert [t["subject"] for t in found["tickets"]] == ["Dygnsschablon oktober"]
