"""Dead letters from the console, on the real broker: listed with reason and body, one
replayed onto the exchange under its original routing key, one discarded; audited."""

import json

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.app import create_app
from notifier.compose import build_services
from notifier.settings import Settings
from notifier.workers.broker import (
    REASON_HEADER,
    ROUTING_KEY_HEADER,
    TIME_HEADER,
    Topology,
    declare,
)
from tests.factories import event_body
from tests.smtp_server import free_port


@pytest.fixture
def settings(settings: Settings, topology: Topology) -> Settings:
    """The suite's settings on the topology fixture's broker names."""
    return settings.model_copy(
        update={
            "events_exchange": topology.exchange,
            "events_queue": topology.queue,
            "dead_letter_queue": topology.dead_letter_queue,
        }
    )


async def bury(
    amqp: AbstractRobustConnection, topology: Topology, body: bytes, reason: str
) -> None:
    channel = await amqp.channel()
    await declare(channel, topology)
    headers = {
        REASON_HEADER: reason,
        ROUTING_KEY_HEADER: "payment.disbursed",
        TIME_HEADER: "2026-12-07T10:00:00+00:00",
    }
    message = aio_pika.Message(body, headers=headers, content_type="application/json")
    await channel.default_exchange.publish(message, routing_key=topology.dead_letter_queue)
    await channel.close()


async def test_dead_letters_are_listed_replayed_and_discarded(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    amqp: AbstractRobustConnection,
    topology: Topology,
) -> None:
    good = event_body()
    await bury(amqp, topology, json.dumps(good).encode(), "unknown event type")
    await bury(amqp, topology, b"not json", "not valid JSON")
    listed = (await client.get("/api/v1/dead-letters", headers=admin)).json()
    assert [(d["reason"], d["routing_key"]) for d in listed] == [
        ("unknown event type", "payment.disbursed"),
        ("not valid JSON", "payment.disbursed"),
    ]
    assert listed[1]["body"] == "not json" and listed[0]["event_id"] == "-"
    replayed = await client.post(
        "/api/v1/dead-letters/replay", json={"key": listed[0]["key"]}, headers=admin
    )
    assert replayed.json() == {"replayed": 1}
    channel = await amqp.channel()
    declared = await declare(channel, topology)
    back = await declared.queue.get(no_ack=True, timeout=5)
    assert back.routing_key == "payment.disbursed" and json.loads(back.body) == good
    assert REASON_HEADER not in (back.headers or {})
    await channel.close()
    discard = {"key": listed[1]["key"]}
    discarded = await client.post("/api/v1/dead-letters/discard", json=discard, headers=admin)
    assert discarded.json() == {"discarded": 1}
    assert (await client.get("/api/v1/dead-letters", headers=admin)).json() == []
    gone = await client.post("/api/v1/dead-letters/discard", json=discard, headers=admin)
    assert gone.status_code == 404
    trail = (await client.get("/api/v1/operations/audit", headers=admin)).json()
    assert [e["action"] for e in trail] == ["dead_letters.discard", "dead_letters.replay"]


async def test_the_console_says_so_when_the_broker_is_away(
    settings: Settings, engine: AsyncEngine, admin: dict[str, str]
) -> None:
    away = settings.model_copy(update={"amqp_url": f"amqp://guest:guest@127.0.0.1:{free_port()}/"})
    app = create_app(build_services(away, engine))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        letters = await client.get("/api/v1/dead-letters", headers=admin)
        assert letters.status_code == 503 and "RabbitMQ" in letters.json()["detail"]
        figures = (await client.get("/api/v1/operations/overview", headers=admin)).json()
        assert figures["dead_letters"] is None and figures["pending"] == 0
