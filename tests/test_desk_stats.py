"""Queue statistics in working hours (Swedish working days, 09–17), per day counts, and
the mark on tickets that have waited longer than the configured working days."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import update

from domain.sqltypes import utcnow
from notifier.compose import Services
from routing.decision.rules import default_rules
from routing.ticketing.models import Ticket
from routing.ticketing.stats import Clock, age_label
from tests.test_desk_search import api_ticket
from tests.test_triage import login, mint

SE = ZoneInfo("Europe/Stockholm")
CLOCK = Clock(default_rules())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SE)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-03-02 09:00", "2026-03-02 17:00", 8),  # a Monday, the whole office day
        ("2026-03-02 07:00", "2026-03-02 10:30", 1.5),  # before opening counts nothing
        ("2026-03-06 16:00", "2026-03-09 10:00", 2),  # Friday to Monday: no weekend
        ("2026-12-23 16:00", "2026-12-28 10:00", 2),  # Christmas Eve to Boxing Day off
        ("2026-04-02 16:00", "2026-04-07 09:30", 1.5),  # Good Friday, Easter Monday off
        ("2026-03-02 18:00", "2026-03-02 20:00", 0),
    ],
)
def test_age_counts_only_working_hours(start: str, end: str, hours: float) -> None:
    assert CLOCK.working_hours(at(start), at(end)) == hours


@pytest.mark.parametrize(("hours", "label"), [(0.5, "0 tim"), (7.9, "7 tim"), (20, "2 d 4 tim")])
def test_age_label_is_working_days_and_hours(hours: float, label: str) -> None:
    assert age_label(hours) == label


async def backdate(services: Services, ticket_id: str, days: int) -> None:
    async with services.sessions() as session:
        old = utcnow() - timedelta(days=days)
        await session.exec(update(Ticket).where(Ticket.id == ticket_id).values(created_at=old))  # type: ignore[call-overload]
        await session.commit()


async def test_stats_give_open_tickets_per_queue_and_a_day_by_day_count(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services
) -> None:
    old = await api_ticket(client)
    await api_ticket(client)
    closed = await api_ticket(client, target_group="nyanlanda")
    await backdate(services, old["id"], 10)  # at least six working days ago
    staff = (await mint(client, admin))[1]
    await client.post(f"/api/v1/triage/tickets/{closed['id']}/close", json={}, headers=staff)

    stats = (await client.get("/api/v1/triage/stats", headers=staff)).json()
    sea = stats["queues"]["sea"]
    assert (sea["open"], sea["stale"]) == (2, 1)
    assert sea["oldest_working_hours"] >= 6 * 8 > sea["median_working_hours"]
    assert "sen" not in stats["queues"]  # closed
    days = stats["days"]
    assert len(days) == 30
    assert (days[-1]["opened"], days[-1]["closed"]) == (2, 1)
    assert sum(day["opened"] for day in days) == 3


async def test_only_staff_see_the_stats(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    assert (await client.get("/api/v1/triage/stats")).status_code == 401
    assert (await client.get("/api/v1/triage/stats", headers=admin)).status_code == 403


async def test_the_desk_marks_a_ticket_that_has_waited_too_long_and_shows_the_stats(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services
) -> None:
    old = await api_ticket(client, message="Gammal fråga\nmed fler rader")
    fresh = await api_ticket(client, message="Ny fråga")
    await backdate(services, old["id"], 10)
    assert (await login(client, (await mint(client, admin))[1])).status_code == 303
    page = (await client.get("/triage", params={"mottagare": "alla"})).text
    rows = {ref: page[page.index(ref) :][:900] for ref in (old["reference"], fresh["reference"])}
    assert "Väntat länge" in rows[old["reference"]]
    assert "Väntat länge" not in rows[fresh["reference"]].split("</tr>")[0]
    assert "Gammal fråga" in rows[old["reference"]] and "med fler rader" not in page
    assert "Stockholm" in rows[fresh["reference"]]
    assert 'id="stats"' in page and "Köerna just nu" in page
