"""Announcements from the console: who they reach and how many per level, sent now or at
their time by a scheduler on the services' clock, as `service.announcement` events on the
real exchange; cancelled before they go, never after."""

import asyncio
import json
from datetime import timedelta
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.sqltypes import utcnow
from notifier import db
from notifier.compose import Services, announcement_clock
from notifier.console import announcements
from notifier.kinds.markdown import markdown
from notifier.settings import Settings
from notifier.workers.broker import Topology, declare
from tests.pipeline_helpers import DYGN, FAST, GOTEBORG, add_user, outbox
from tests.test_pipeline import record

MASSFLYKT = "schablon-fordelningstal-massflykt"
NEWS = ("service.announcement",)
NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def settings(settings: Settings, topology: Topology) -> Settings:
    """The suite's settings on the topology fixture's broker names."""
    return settings.model_copy(
        update={
            "events_exchange": topology.exchange,
            "events_queue": topology.queue,
            "dead_letter_queue": topology.dead_letter_queue,
            "announcement_poll_seconds": 0.05,
        }
    )


@pytest.fixture
async def people(engine: AsyncEngine, services: Services) -> None:
    services.clock = lambda: NOW
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "dygn-full", grants={DYGN: "full"}, subscribed=NEWS)
        await add_user(session, "goteborg", org=GOTEBORG, grants={DYGN: "full"}, subscribed=NEWS)
        await add_user(session, "massflykt", grants={MASSFLYKT: "summary"}, subscribed=NEWS)
        await add_user(session, "fast-only", grants={FAST: "full"}, subscribed=NEWS)
        await add_user(session, "not-subscribed", grants={DYGN: "full"})
        await session.commit()


async def published(amqp: AbstractRobustConnection, topology: Topology) -> list[dict[str, Any]]:
    """Every event waiting in the service's queue, taken off it."""
    channel = await amqp.channel()
    declared = await declare(channel, topology)
    found = []
    while message := await declared.queue.get(no_ack=True, fail=False, timeout=5):
        assert message.routing_key == "service.announcement"
        found.append(json.loads(message.body))
    await channel.close()
    return found


async def write(client: httpx.AsyncClient, admin: dict[str, str], **body: Any) -> Any:
    defaults = {"title": "Försenade schabloner", "body": "Pengarna betalas ut i september."}
    answer = await client.post("/api/v1/announcements", json=defaults | body, headers=admin)
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.mark.usefixtures("people")
async def test_a_scheduled_announcement_reaches_exactly_its_readers_once_at_its_time(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    services: Services,
    engine: AsyncEngine,
    amqp: AbstractRobustConnection,
    topology: Topology,
) -> None:
    at = NOW + timedelta(minutes=2)
    made = await write(client, admin, compensation_types=[DYGN, MASSFLYKT], send_at=at.isoformat())
    assert made["status"] == "scheduled"
    assert made["recipients"] == {"full": 2, "summary": 1}
    scheduler = asyncio.create_task(announcement_clock(services)())
    try:
        await asyncio.sleep(0.3)
        assert await published(amqp, topology) == []  # not yet: the clock says NOW
        services.clock = lambda: at
        for _ in range(100):
            listed = (await client.get("/api/v1/announcements", headers=admin)).json()
            if listed[0]["status"] == "sent":
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # a few more rounds: it must not go twice
    finally:
        scheduler.cancel()
    [event] = await published(amqp, topology)
    assert "organisation" not in event  # every organisation
    assert event["announcement"]["compensation_types"] == [DYGN, MASSFLYKT]
    await record(engine, event)
    got = {row.user_id: row.level for row in await outbox(engine)}
    assert got == {"dygn-full": "full", "goteborg": "full", "massflykt": "summary"}


@pytest.mark.usefixtures("people")
async def test_sent_now_to_a_list_of_organisations_with_an_event_each(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    engine: AsyncEngine,
    amqp: AbstractRobustConnection,
    topology: Topology,
) -> None:
    made = await write(client, admin, organisations=[{"kind": "kommun", "code": "0180"}])
    assert made["status"] == "sent" and made["recipients"] == {"full": 0, "summary": 3}
    [event] = await published(amqp, topology)
    assert event["organisation"] == {"kind": "kommun", "code": "0180"}
    await record(engine, event)
    assert {row.user_id for row in await outbox(engine)} == {"dygn-full", "massflykt", "fast-only"}
    regions = await write(client, admin, organisation_kind="region")
    assert regions["recipients"] == {"full": 0, "summary": 0}
    assert len(await published(amqp, topology)) == 21  # one event per region


@pytest.mark.usefixtures("people")
async def test_an_announcement_is_cancelled_before_it_goes_and_never_after(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    services: Services,
    amqp: AbstractRobustConnection,
    topology: Topology,
) -> None:
    later = await write(client, admin, send_at=(NOW + timedelta(hours=1)).isoformat())
    path = f"/api/v1/announcements/{later['id']}"
    cancelled = await client.delete(path, headers=admin)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await client.delete(path, headers=admin)).status_code == 409
    publish = announcements.publisher(services.settings.amqp_url, topology)
    sent = await announcements.send_due(
        sessions=services.sessions, publish=publish, now=NOW + timedelta(days=1)
    )
    assert sent == 0 and await published(amqp, topology) == []
    now = await write(client, admin)
    gone = await client.delete(f"/api/v1/announcements/{now['id']}", headers=admin)
    assert gone.status_code == 409
    assert (await client.delete("/api/v1/announcements/nope", headers=admin)).status_code == 404
    trail = (await client.get("/api/v1/operations/audit", headers=admin)).json()
    assert [e["action"] for e in reversed(trail)] == [
        "announcements.create",
        "announcements.cancel",
        "announcements.create",
        "announcements.send",
    ]


async def test_an_announcement_that_cannot_be_published_stays_scheduled(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services
) -> None:
    services.clock = lambda: NOW

    async def broker_away(events: list[dict[str, Any]]) -> None:
        raise aio_pika.exceptions.AMQPConnectionError("away")

    made = await write(client, admin, send_at=NOW.isoformat())
    assert made["status"] == "sent"  # the real broker answered
    later = await write(client, admin, send_at=(NOW + timedelta(minutes=1)).isoformat())
    with pytest.raises(aio_pika.exceptions.AMQPConnectionError):
        await announcements.send_due(
            sessions=services.sessions, publish=broker_away, now=NOW + timedelta(minutes=1)
        )
    listed = (await client.get("/api/v1/announcements", headers=admin)).json()
    assert {a["id"]: a["status"] for a in listed}[later["id"]] == "scheduled"


# Styles inline, as in every email: mail clients drop style sheets.
P = '<p style="margin: 0 0 16px;">'
UL = '<ul style="margin: 0 0 16px; padding-left: 24px;">'


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        (
            "Ett stycke.\n\nEtt till.",
            f"{P}Ett stycke.</p>\n{P}Ett till.</p>",
        ),
        ("- ett\n- två", f"{UL}\n<li>ett</li>\n<li>två</li>\n</ul>"),
        (
            "[Mer](https://www.migrationsverket.se/x)",
            '<a href="https://www.migrationsverket.se/x">Mer',
        ),
        ("Se https://www.migrationsverket.se.", '<a href="https://www.migrationsverket.se">'),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
        ('<img src=x onerror="alert(1)">', "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"),
    ],
)
def test_the_markdown_subset_has_paragraphs_lists_and_links_and_no_html(
    written: str, shown: str
) -> None:
    assert shown in markdown(written)


@pytest.mark.parametrize("send_at", [0, 1700000000, True, "i morgon"])
async def test_a_time_is_written_as_a_date_and_time(
    client: httpx.AsyncClient, admin: dict[str, str], send_at: object
) -> None:
    body = {"title": "T", "body": "B", "send_at": send_at}
    answer = await client.post("/api/v1/announcements", json=body, headers=admin)
    assert answer.status_code == 422
