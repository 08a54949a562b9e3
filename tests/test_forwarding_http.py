"""The HTTP channel (respx standing in for the endpoint), marking a delivered forward on
its ticket, and attachments going along."""

import base64
import json
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier import db
from notifier.channels.base import Channel, PermanentDeliveryError, TransientDeliveryError
from notifier.channels.http import HttpChannel
from notifier.compose import Role, build_sender, build_services, channels
from notifier.kinds.forwards import ForwardSteps
from notifier.kinds.tickets import forward_hook, forward_message
from notifier.outbox.claim import RetryPolicy
from notifier.outbox.models import OutboxKind, OutboxMessage
from notifier.settings import Settings
from notifier.workers.sender import Sender
from routing.decision.engine import route
from routing.decision.rules import default_rules
from routing.decision.schemas import Destination, Inquiry
from routing.ticketing import tickets
from routing.ticketing.models import Attachment, Ticket, TicketStatus

KEY = b"test-signing-key-of-at-least-32-bytes"

URL = "https://tickets.example.invalid/kontaktcenter"


def outbox_message(**overrides: Any) -> OutboxMessage:
    fields: dict[str, Any] = {
        "id": 7,
        "message_id": "ticket.abc.sea",
        "channel": "http",
        "kind": "ticket",
        "ticket_id": "abc",
        "recipient": URL,
        "body_text": json.dumps({"ticket": {"reference": "SUP-ABCD2345"}}),
    }
    return OutboxMessage(**(fields | overrides))


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=1) as client:
        yield client


@pytest.mark.parametrize(
    ("response", "failure"),
    [
        (httpx.Response(200), None),
        (httpx.Response(201), None),
        (httpx.Response(204), None),
        (httpx.Response(408), TransientDeliveryError),
        (httpx.Response(429), TransientDeliveryError),
        (httpx.Response(500), TransientDeliveryError),
        (httpx.Response(503), TransientDeliveryError),
        (httpx.Response(400), PermanentDeliveryError),
        (httpx.Response(404), PermanentDeliveryError),
        (httpx.Response(410), PermanentDeliveryError),
        (httpx.ConnectError("refused"), TransientDeliveryError),
        (httpx.ReadTimeout("slow"), TransientDeliveryError),
    ],
)
async def test_the_outcome_names_what_the_sender_should_do(
    client: httpx.AsyncClient, response: Any, failure: type[Exception] | None
) -> None:
    with respx.mock:
        respx.post(URL).mock(side_effect=[response])
        result = await HttpChannel(client).deliver([outbox_message()])

    if failure is None:
        assert result == {7: None}
    else:
        assert isinstance(result[7], failure)


async def test_the_post_carries_the_json_and_an_idempotency_key(
    client: httpx.AsyncClient,
) -> None:
    with respx.mock:
        endpoint = respx.post(URL).mock(return_value=httpx.Response(202))
        await HttpChannel(client).deliver([outbox_message()])

    request = endpoint.calls.last.request
    assert request.headers["Idempotency-Key"] == "ticket.abc.sea"
    assert request.headers["Content-Type"].startswith("application/json")
    assert json.loads(request.content) == {"ticket": {"reference": "SUP-ABCD2345"}}


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with db.sessionmaker(engine)() as session:
        yield session


async def stored_forward(session: AsyncSession, *, screenshot: bool = False) -> OutboxMessage:
    """A ticket as the API stores it, its forward in the outbox, committed."""
    inquiry = Inquiry.model_validate(
        {
            "issue_type": "login",
            "login_step": 1,
            "organisation": {"kind": "kommun", "code": "0180"},
            "email": "anna.berg@stockholm.se",
        }
    )
    decision = route(inquiry, default_rules(), utcnow())
    ticket = await tickets.create_ticket(session=session, inquiry=inquiry, decision=decision)
    if screenshot:
        session.add(
            Attachment(
                id="att-1",
                ticket_id=ticket.id,
                filename="fel.png",
                content_type="image/png",
                size=4,
                data=b"\x89PNG",
            )
        )
    settings = Settings(forward_endpoints={"mv_kontaktcenter_kommun": URL})
    message = forward_message(ticket, settings, KEY)
    session.add(message)
    await session.commit()
    return message


def forward_sender(engine: AsyncEngine, channels: dict[str, Channel]) -> Sender:
    return Sender(
        sessions=db.sessionmaker(engine),
        channels=channels,
        kinds={OutboxKind.TICKET: ForwardSteps()},
        policy=RetryPolicy(max_attempts=5, base=0, cap=0),  # a failed forward is due at once
    )


async def test_a_delivered_forward_marks_its_ticket_forwarded(
    engine: AsyncEngine, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    message = await stored_forward(session)
    sender = forward_sender(engine, {"http": HttpChannel(client)})

    with respx.mock:
        respx.post(URL).mock(side_effect=[httpx.Response(503), httpx.Response(200)])
        assert await sender.send_batch() == 1
        assert await status_of(engine, message.ticket_id) == TicketStatus.NEW
        assert await sender.send_batch() == 1

    assert await status_of(engine, message.ticket_id) == TicketStatus.FORWARDED
    async with db.sessionmaker(engine)() as fresh:
        trail = await tickets.events(session=fresh, ticket_id=message.ticket_id or "")
    assert [event.action for event in trail] == ["created", "status"]
    assert trail[-1].detail == {
        "channel": "http",
        "recipient": URL,
        "from": "new",
        "to": "forwarded",
    }


async def test_attachments_go_along_with_the_http_forward(
    engine: AsyncEngine, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    await stored_forward(session, screenshot=True)

    with respx.mock:
        endpoint = respx.post(URL).mock(return_value=httpx.Response(200))
        await forward_sender(engine, {"http": HttpChannel(client)}).send_batch()

    [attachment] = json.loads(endpoint.calls.last.request.content)["attachments"]
    assert attachment["filename"] == "fel.png"
    assert base64.b64decode(attachment["data_base64"]) == b"\x89PNG"


async def status_of(engine: AsyncEngine, ticket_id: str | None) -> str:
    async with db.sessionmaker(engine)() as fresh:
        ticket = await fresh.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.status


def only_eml(directory: Path) -> EmailMessage:
    [path] = directory.glob("*.eml")
    email = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(email, EmailMessage)
    return email


async def test_the_composed_sender_mails_a_forward_with_its_screenshot(
    engine: AsyncEngine, session: AsyncSession, tmp_path: Path
) -> None:
    services = build_services(Settings(mail_dir=tmp_path), engine, roles=(Role.SEND,))
    forward = await stored_forward(session, screenshot=True)
    forward.channel, forward.recipient = "email", "kommun@staging.example.invalid"
    session.add(forward)
    await session.commit()

    async with services.resources:  # closes the forwards' HTTP client
        assert await build_sender(services).send_batch() == 1

    assert set(channels(services)) == {"email", "http", "amqp"}
    email = only_eml(tmp_path)  # the forward, written with its screenshot
    assert [part.get_filename() for part in email.iter_attachments()] == ["fel.png"]
    assert await status_of(engine, forward.ticket_id) == TicketStatus.FORWARDED


async def test_a_ticket_rerouted_back_and_forth_is_forwarded_each_time(
    session: AsyncSession,
) -> None:
    hook = forward_hook(Settings(), KEY)
    inquiry = Inquiry.model_validate(
        {"issue_type": "compensation", "target_group": "asylsokande", "email": "a@b.se"}
    )
    decision = route(inquiry, default_rules(), utcnow())
    ticket = await tickets.create_ticket(session=session, inquiry=inquiry, decision=decision)
    await hook(session, ticket, decision)
    for destination in (Destination.SEN, Destination.SEA):
        await tickets.reroute(
            session=session, ticket=ticket, actor="k", destination=destination, reason="Fel kö."
        )
        await hook(session, ticket, decision)
    await session.commit()

    query = select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)
    rows = sorted((await session.exec(query)).all(), key=lambda row: row.id or 0)
    assert [(row.message_id, row.recipient) for row in rows] == [
        (f"ticket.{ticket.id}.sea", "sea@tickets.statlig-ersattning.invalid"),
        (f"ticket.{ticket.id}.sen.2", "sen@tickets.statlig-ersattning.invalid"),
        (f"ticket.{ticket.id}.sea.3", "sea@tickets.statlig-ersattning.invalid"),
    ]
