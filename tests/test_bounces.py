"""Bounces, end to end inside one process: our real sender mails through an SMTP server on
loopback with the return path bounce+…@reply domain, a bounce sent to that address
reaches the real `notifier inbound`, and the address is suppressed until lifted."""

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest
import yaml
from aio_pika.abc import AbstractRobustConnection
from sqlmodel import select

from domain.sqltypes import utcnow
from notifier import compose
from notifier.channels.return_path import ReturnPath
from notifier.compose import Role, Services
from notifier.outbox.events import Event
from notifier.outbox.models import OutboxMessage
from notifier.outbox.record import record_events
from notifier.settings import Settings
from notifier.workers.outcomes import declare_at_start
from notifier.workers.sender import Sender
from subscriptions.models import User
from subscriptions.suppressions import BounceRecord, Suppression
from tests.factories import DYGN, add_user, event_body
from tests.inbound_server import running
from tests.smtp_server import Mailbox, free_port
from tests.test_metrics import samples

DOMAIN = "svar.example.se"
SAMPLES = Path(__file__).parent / "bounces"
ASYNCAPI = Path(__file__).parent.parent / "docs" / "asyncapi.yaml"
USER = "u-bounce"
ADDRESS = f"{USER}@kommun.example.se"


@pytest.fixture
def outcomes_exchange() -> str:
    return f"test.outcomes.{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(settings: Settings, smtp: tuple[int, Mailbox], outcomes_exchange: str) -> Settings:
    return settings.model_copy(
        update={
            "reply_domain": DOMAIN,
            "smtp_url": f"smtp://127.0.0.1:{smtp[0]}",
            "smtp_timeout": 5,
            "outcomes_exchange": outcomes_exchange,
        }
    )


@pytest.fixture
async def inbound(services: Services) -> AsyncIterator[int]:
    async with running(compose.build_inbound(services), max_bytes=1_000_000) as port:
        yield port


@pytest.fixture
async def sender(services: Services) -> AsyncIterator[Sender]:
    async with services.resources:
        yield compose.build_sender(services)


async def add(services: Services, user_id: str = USER, **options: Any) -> None:
    async with services.sessions() as session:
        await add_user(session, user_id, grants={DYGN: "full"}, **options)
        await session.commit()


async def event(services: Services) -> str:
    async with services.sessions() as session:
        events = [Event.model_validate(event_body())]
        await record_events(session=session, events=events, now=utcnow())
        await session.commit()
    return str(events[0].id)


async def send_all(sender: Sender) -> None:
    while await sender.send_batch():
        pass


async def rows(services: Services, kind: str = "notification") -> list[OutboxMessage]:
    async with services.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        return sorted((await session.exec(query)).all(), key=lambda row: row.id or 0)


def sample(name: str, to: str) -> EmailMessage:
    message = message_from_bytes((SAMPLES / name).read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    message.replace_header("To", to)
    return message


async def bounce(port: int, to: str, name: str = "postfix_user_unknown.eml") -> Any:
    return await aiosmtplib.send(
        sample(name, to), hostname="127.0.0.1", port=port, sender="", recipients=[to]
    )


async def test_a_hard_bounce_suppresses_the_address_until_a_new_one_is_mirrored(
    services: Services,
    sender: Sender,
    smtp: tuple[int, Mailbox],
    inbound: int,
    client: httpx.AsyncClient,
    admin: dict[str, str],
) -> None:
    mailbox = smtp[1]
    await add(services)
    await event(services)
    await send_all(sender)
    [return_path] = mailbox.mail_from
    [first] = await rows(services)
    assert ReturnPath(services.key, DOMAIN).row_of(return_path) == first.id
    assert return_path.startswith("bounce+") and return_path.endswith("@" + DOMAIN)
    assert len(return_path.partition("@")[0]) <= 64

    assert (await bounce(inbound, return_path))[1].startswith("OK: bounce recorded")
    [first] = await rows(services)
    assert first.status == "bounced"
    assert first.last_error is not None and "5.1.1" in first.last_error
    user = (await client.get(f"/api/v1/users/{USER}", headers=admin)).json()
    assert user["email_status"]["state"] == "suppressed"
    assert user["email_status"]["status"] == "5.1.1"
    listed = (await client.get("/api/v1/suppressions", headers=admin)).json()["suppressions"]
    assert [(s["email"], s["status"], s["user_ids"]) for s in listed] == [
        (ADDRESS, "5.1.1", [USER])
    ]

    event_id = await event(services)
    await send_all(sender)
    second = (await rows(services))[1]
    assert second.status == "suppressed"
    assert second.last_error is not None and "status 5.1.1" in second.last_error
    assert len(mailbox.messages) == 1  # nothing more reached the relay
    found = samples((await client.get("/metrics")).text)
    assert found[("notifier_bounces", (("kind", "hard"),))] == 1
    assert found[("notifier_bounces", (("kind", "soft"),))] == 0
    assert found[("notifier_suppressed_addresses", ())] == 1
    for status in ("bounced", "suppressed"):
        key = ("notifier_outbox_messages", (("kind", "notification"), ("status", status)))
        assert found[key] == 1
    url = f"/api/v1/users/{USER}/events/{event_id}/explanation"
    why = (await client.get(url, headers=admin)).json()["summary"]
    assert why.startswith("Mejlet skickades inte: adressen är spärrad sedan ")
    assert "efter en studs med status 5.1.1 (550 5.1.1 [adress]: Recipient address" in why

    body = {"email": "ny.adress@kommun.example.se", "name": "Ny", "organisation": {
        "kind": "kommun", "code": "0180"}}  # fmt: skip
    assert (await client.put(f"/api/v1/users/{USER}", json=body, headers=admin)).status_code == 200
    user = (await client.get(f"/api/v1/users/{USER}", headers=admin)).json()
    assert user["email_status"]["state"] == "ok"
    assert (await client.get("/api/v1/suppressions", headers=admin)).json()["suppressions"] == []
    await event(services)
    await send_all(sender)
    assert (await rows(services))[2].status == "sent"
    assert [str(m["To"]) for m in mailbox.messages][-1] == "ny.adress@kommun.example.se"


async def test_the_e_service_is_told_once_on_notifier_outcomes(
    services: Services,
    sender: Sender,
    smtp: tuple[int, Mailbox],
    inbound: int,
    amqp: AbstractRobustConnection,
    outcomes_exchange: str,
) -> None:
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(outcomes_exchange, "topic", durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key="email.undeliverable")
    try:
        await add(services)
        await add(services, "u-shared", subscribed=())  # the same functional mailbox
        async with services.sessions() as session:
            shared = await session.get(User, "u-shared")
            assert shared is not None
            shared.email = ADDRESS.upper()
            await session.commit()
        await event(services)
        await send_all(sender)
        [return_path, *_] = smtp[1].mail_from
        await bounce(inbound, return_path)
        await bounce(inbound, return_path)  # the relay sent it twice: one suppression
        await send_all(sender)
        [told] = await rows(services, "undeliverable")
        assert told.status == "sent"
        message = await queue.get(timeout=5)
        assert message.delivery_mode == 2 and message.content_type == "application/json"
        body = json.loads(message.body)
        assert body == {
            "schema_version": 1,
            "user_ids": [USER, "u-shared"],
            "email": ADDRESS,
            "status": "5.1.1",
            "reason": body["reason"],
            "occurred_at": body["occurred_at"],
        }
        assert "User unknown" in body["reason"] and "@" not in body["reason"]
        schema = yaml.safe_load(ASYNCAPI.read_text())["components"]["schemas"]["EmailUndeliverable"]
        assert set(body) == set(schema["required"]) == set(schema["properties"])
        assert re.fullmatch(schema["properties"]["status"]["pattern"], body["status"])
        await message.ack()
        assert await queue.get(fail=False) is None
    finally:
        await channel.exchange_delete(outcomes_exchange)
        await channel.close()


async def test_the_message_waits_in_the_outbox_while_the_broker_is_away(
    services: Services, smtp: tuple[int, Mailbox], inbound: int, settings: Settings
) -> None:
    away = settings.model_copy(update={"amqp_url": f"amqp://guest:guest@127.0.0.1:{free_port()}/"})
    services.settings = away
    async with services.resources:
        sender = compose.build_sender(services)
        await add(services)
        await event(services)
        await send_all(sender)
        await bounce(inbound, smtp[1].mail_from[0])
        await sender.send_batch()
    [told] = await rows(services, "undeliverable")
    assert (told.status, told.attempts) == ("pending", 1)
    assert told.last_error is not None and "RabbitMQ" in told.last_error


async def test_a_token_that_does_not_verify_is_refused_at_rcpt(inbound: int) -> None:
    for to in (f"bounce+1-aaaaaaaaaaaaaaaa@{DOMAIN}", f"bounce+1@{DOMAIN}"):
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await bounce(inbound, to)
        assert refused.value.recipients[0].code == 550


@pytest.mark.parametrize("name", ["auto_reply_franvaro.eml", "delivered_notice.eml"])
async def test_an_auto_reply_to_the_return_path_is_dropped_not_stored(
    services: Services, sender: Sender, smtp: tuple[int, Mailbox], inbound: int, name: str
) -> None:
    await add(services)
    await event(services)
    await send_all(sender)
    answer = await bounce(inbound, smtp[1].mail_from[0], name)
    assert "dropped" in answer[1]
    async with services.sessions() as session:
        assert (await session.exec(select(BounceRecord))).all() == []
    assert [row.status for row in await rows(services)] == ["sent"]


async def test_soft_bounces_suppress_only_when_enough_fall_within_the_window(
    services: Services, sender: Sender, smtp: tuple[int, Mailbox], inbound: int
) -> None:
    await add(services)
    limit = services.settings.soft_bounce_limit
    for _ in range(limit):
        await event(services)
    await send_all(sender)
    paths = smtp[1].mail_from
    async with services.sessions() as session:  # one long ago, outside the window
        old = utcnow() - timedelta(days=services.settings.soft_bounce_days + 1)
        session.add(BounceRecord(email=ADDRESS, hard=False, status="4.2.2", received_at=old))
        await session.commit()
    for path in paths[: limit - 1]:
        await bounce(inbound, path, "postfix_delayed.eml")
    await bounce(inbound, paths[0], "postfix_delayed.eml")  # a second notice for one email
    async with services.sessions() as session:
        assert (await session.exec(select(Suppression))).all() == []
    await bounce(inbound, paths[-1], "office365_delayed.eml")
    async with services.sessions() as session:
        [suppression] = (await session.exec(select(Suppression))).all()
    assert (suppression.reason, suppression.status) == ("soft_bounces", "4.4.7")
    assert {row.status for row in await rows(services)} == {"sent"}  # soft: still sent


async def test_an_operator_lifts_a_suppression(
    services: Services,
    sender: Sender,
    smtp: tuple[int, Mailbox],
    inbound: int,
    client: httpx.AsyncClient,
    admin: dict[str, str],
) -> None:
    await add(services)
    await event(services)
    await send_all(sender)
    await bounce(inbound, smtp[1].mail_from[0], "gmail_user_unknown.eml")
    url = f"/api/v1/suppressions/{ADDRESS.upper()}"
    assert (await client.delete(url)).status_code == 401
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert (await client.delete(url, headers=admin)).status_code == 404
    await event(services)
    await send_all(sender)
    assert [row.status for row in await rows(services)] == ["bounced", "sent"]


async def test_a_sending_process_declares_the_outcomes_exchange_when_it_starts(
    services: Services, amqp: AbstractRobustConnection, outcomes_exchange: str
) -> None:
    with_send = compose.build_services(services.settings, services.engine, roles=[Role.SEND])
    [declare] = [w for w in with_send.workers if getattr(w, "func", None) is declare_at_start]
    await asyncio.wait_for(declare(), timeout=15)
    channel = await amqp.channel()
    try:
        await channel.declare_exchange(outcomes_exchange, passive=True)  # raises if absent
    finally:
        await channel.exchange_delete(outcomes_exchange)
        await channel.close()
