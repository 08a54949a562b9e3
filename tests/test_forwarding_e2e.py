"""A ticket opened through the API reaches its configured mailbox over real SMTP (aiosmtpd
on loopback) or its HTTP endpoint (respx), through the outbox and the sender, surviving
failures; once delivered the ticket is marked forwarded."""

import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from notifier.app import create_app
from notifier.channels.email import email_channel
from notifier.channels.http import HttpChannel
from notifier.compose import Services, build_services, kinds
from notifier.outbox.claim import RetryPolicy
from notifier.outbox.models import OutboxMessage
from notifier.settings import Settings
from notifier.workers.sender import Sender
from routing.ticketing import tickets
from routing.ticketing.models import Attachment, Ticket
from tests.smtp_server import Mailbox, free_port, start_smtp

SEN_ENDPOINT = "https://sen.tickets.example.invalid/inbox"
KOMMUN = {"kind": "kommun", "code": "0180"}
PERSON = {"name": "Anna Berg", "email": "anna.berg@stockholm.se", "message": "Hjälp!"}


@pytest.fixture
def forwarding(settings: Settings, engine: AsyncEngine, smtp: tuple[int, Mailbox]) -> Services:
    """Every destination has its own staging mailbox; SEN takes tickets over HTTP."""
    port, _ = smtp
    configured = settings.model_copy(
        update={
            "smtp_url": f"smtp://127.0.0.1:{port}",
            "reply_domain": "svar.example.se",
            "forward_mailboxes": {
                "sea": "sea@staging.example.invalid",
                "sen": "sen@staging.example.invalid",
                "mv_kontaktcenter_kommun": "kommun@staging.example.invalid",
                "mv_kontaktcenter_region": "region@staging.example.invalid",
            },
            "forward_endpoints": {"sen": SEN_ENDPOINT},
        }
    )
    return build_services(configured, engine)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2) as client:
        yield client


def sender_for(services: Services, http: httpx.AsyncClient) -> Sender:
    return Sender(
        sessions=services.sessions,
        channels={"email": email_channel(services.settings), "http": HttpChannel(http)},
        kinds=kinds(services),
        policy=RetryPolicy(max_attempts=5, base=0, cap=0),  # a failed forward is due at once
        rng=random.Random(4),
    )


async def open_ticket(services: Services, **fields: Any) -> dict[str, Any]:
    app = create_app(services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        body = {"organisation": KOMMUN} | PERSON | fields
        response = await client.post("/api/v1/support/tickets", json=body)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    # These tests follow the forward alone; the person's receipt has tests of its own.
    async with services.sessions() as session:
        receipt = col(OutboxMessage.message_id).endswith(".receipt")
        await session.exec(delete(OutboxMessage).where(receipt))  # type: ignore[call-overload]
        await session.commit()
    return ticket


async def add_screenshot(services: Services, ticket_id: str) -> None:
    """As the web form stores one, beside the ticket."""
    async with services.sessions() as session:
        session.add(
            Attachment(
                id=str(uuid.uuid4()),
                ticket_id=ticket_id,
                filename="skarmbild.png",
                content_type="image/png",
                size=4,
                data=b"\x89PNG",
            )
        )
        await session.commit()


async def stored(services: Services, ticket_id: str) -> tuple[Ticket, OutboxMessage]:
    async with services.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        query = select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id)
        [forward] = (await session.exec(query)).all()
    assert ticket is not None
    return ticket, forward


async def test_a_ticket_reaches_its_configured_mailbox_over_smtp_after_a_deferral(
    forwarding: Services, smtp: tuple[int, Mailbox], http: httpx.AsyncClient
) -> None:
    _, mailbox = smtp
    mailbox.busy = 1
    opened = await open_ticket(forwarding, issue_type="login", login_step=1)
    await add_screenshot(forwarding, opened["id"])
    sender = sender_for(forwarding, http)

    await sender.send_batch()
    ticket, forward = await stored(forwarding, opened["id"])
    assert (forward.status, forward.attempts, ticket.status) == ("pending", 1, "new")
    assert "451" in (forward.last_error or "")

    await sender.send_batch()
    ticket, forward = await stored(forwarding, opened["id"])
    assert (forward.status, forward.attempts, ticket.status) == ("sent", 2, "forwarded")
    [email] = mailbox.messages
    assert email["To"] == "kommun@staging.example.invalid"
    # Replies go through the ticket; the asker's own address is in the text, never in
    # a Reply-To beside our From (which reads as forged).
    assert email["Reply-To"].startswith("svar+")
    assert email["Reply-To"].endswith("@svar.example.se")
    text = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "E-post: anna.berg@stockholm.se" in text
    assert email["Subject"].startswith(f"[{opened['reference']}] Inloggning")
    assert "regel login-step1-kommun" in text
    [screenshot] = list(email.iter_attachments())
    assert screenshot.get_filename() == "skarmbild.png"
    assert screenshot.get_content_type() == "image/png"
    assert screenshot.get_content() == b"\x89PNG"
    async with forwarding.sessions() as session:
        trail = await tickets.events(session=session, ticket_id=opened["id"])
    assert [(e.action, e.actor) for e in trail] == [("created", "system"), ("status", "system")]
    assert trail[-1].detail["recipient"] == "kommun@staging.example.invalid"


async def test_nothing_is_mailed_to_migrationsverket_by_default(
    settings: Settings, engine: AsyncEngine, smtp: tuple[int, Mailbox], http: httpx.AsyncClient
) -> None:
    port, mailbox = smtp
    defaults = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"})
    services = build_services(defaults, engine)
    await open_ticket(services, issue_type="compensation", target_group="asylsokande")

    await sender_for(services, http).send_batch()

    [email] = mailbox.messages
    assert email["To"] == "sea@tickets.statlig-ersattning.invalid"


async def test_a_ticket_reaches_its_http_endpoint_when_it_recovers(
    forwarding: Services, http: httpx.AsyncClient
) -> None:
    opened = await open_ticket(forwarding, issue_type="compensation", target_group="nyanlanda")
    await add_screenshot(forwarding, opened["id"])
    sender = sender_for(forwarding, http)

    with respx.mock:
        endpoint = respx.post(SEN_ENDPOINT).mock(
            side_effect=[httpx.ConnectError("refused"), httpx.Response(503), httpx.Response(201)]
        )
        for _ in range(3):
            await sender.send_batch()

    ticket, forward = await stored(forwarding, opened["id"])
    assert (forward.channel, forward.status, forward.attempts) == ("http", "sent", 3)
    assert ticket.status == "forwarded"
    assert endpoint.call_count == 3
    keys = {call.request.headers["Idempotency-Key"] for call in endpoint.calls}
    assert keys == {forward.message_id}  # the endpoint can tell a retry from a new ticket
    document = httpx.Response(200, content=endpoint.calls.last.request.content).json()
    assert document["ticket"]["reference"] == opened["reference"]
    assert [a["filename"] for a in document["attachments"]] == ["skarmbild.png"]


async def test_an_endpoint_that_refuses_fails_the_forward_and_keeps_the_ticket(
    forwarding: Services, http: httpx.AsyncClient
) -> None:
    opened = await open_ticket(forwarding, issue_type="compensation", target_group="nyanlanda")

    with respx.mock:
        respx.post(SEN_ENDPOINT).mock(return_value=httpx.Response(400, text="bad ticket"))
        await sender_for(forwarding, http).send_batch()

    ticket, forward = await stored(forwarding, opened["id"])
    assert forward.status == "failed"
    assert "HTTP 400" in (forward.last_error or "")
    assert ticket.status == "new"  # still on the triage desk


async def test_a_forward_waits_out_a_mail_server_that_is_down(
    forwarding: Services, http: httpx.AsyncClient
) -> None:
    opened = await open_ticket(forwarding, issue_type="login", login_step=1)
    elsewhere = free_port()  # nothing listens here yet
    down = forwarding.settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{elsewhere}"})
    forwarding.settings = down

    await sender_for(forwarding, http).send_batch()
    ticket, forward = await stored(forwarding, opened["id"])
    assert (forward.status, ticket.status) == ("pending", "new")

    controller, mailbox = start_smtp(elsewhere)
    try:
        await sender_for(forwarding, http).send_batch()
    finally:
        controller.stop()
    ticket, forward = await stored(forwarding, opened["id"])
    assert (forward.status, forward.attempts, ticket.status) == ("sent", 2, "forwarded")
    assert [m["To"] for m in mailbox.messages] == ["kommun@staging.example.invalid"]
