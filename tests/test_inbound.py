"""Receipts and replies by email: a new ticket's receipt and staff answers carry
Reply-To svar+<reference>.<mac>@<reply domain>, and `notifier inbound` (a real SMTP server on
loopback, sent to with aiosmtplib) adds the person's reply to the ticket."""

import struct
import zlib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
import pytest
from sqlmodel import select

from notifier import compose
from notifier.compose import Services
from notifier.outbox.models import OutboxMessage
from notifier.settings import Settings
from routing.ticketing.replies import reply_address
from tests.inbound_server import running
from tests.test_desk_search import api_ticket
from tests.test_triage import mint

DOMAIN = "svar.example.se"
MAX_BYTES = 100_000


def tiny_png() -> bytes:
    """A real 1×1 PNG, so any decoding check of screenshots takes it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def address(services: Services, reference: str) -> str:
    return reply_address(reference, key=services.key, domain=DOMAIN)


def reply(to: str, text: str, *, images: list[bytes] = (), **headers: str) -> EmailMessage:  # type: ignore[assignment]
    """A reply to the address `to` (a ticket's reply address)."""
    reference = to.partition("+")[2].partition(".")[0].upper()
    message = EmailMessage()
    message["From"] = "Anna Berg <anna.berg@stockholm.se>"
    message["To"] = to
    message["Subject"] = f"Re: Svar på din fråga till Migrationsverket [{reference}]"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    for data in images:
        message.add_attachment(data, maintype="image", subtype="png", filename="bild.png")
    return message


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"reply_domain": DOMAIN})


@pytest.fixture
async def inbound(services: Services) -> AsyncIterator[int]:
    async with running(compose.build_inbound(services), max_bytes=MAX_BYTES) as port:
        yield port


async def send(port: int, message: EmailMessage, sender: str = "anna.berg@stockholm.se") -> Any:
    return await aiosmtplib.send(message, hostname="127.0.0.1", port=port, sender=sender)


async def outbox(services: Services) -> list[OutboxMessage]:
    async with services.sessions() as session:
        return list((await session.exec(select(OutboxMessage))).all())


async def test_a_new_ticket_sends_a_receipt_that_can_be_replied_to(
    client: httpx.AsyncClient, services: Services
) -> None:
    ticket = await api_ticket(client)
    [receipt] = [m for m in await outbox(services) if m.message_id.endswith(".receipt")]
    assert receipt.recipient == "anna.berg@stockholm.se"
    assert receipt.headers["Reply-To"] == address(services, ticket["reference"])
    assert receipt.headers["Reply-To"].startswith(f"svar+{ticket['reference'].lower()}.")
    assert ticket["reference"] in receipt.subject  # type: ignore[operator]
    assert "SEA" in receipt.body_text or "asylsökande" in receipt.body_text  # type: ignore[operator]
    assert "svaret hamnar i ärendet" in receipt.body_text  # type: ignore[operator]


async def test_a_reply_joins_the_answered_ticket_with_its_screenshot_and_reopens_it(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, inbound: int
) -> None:
    ticket = await api_ticket(client)
    staff = (await mint(client, admin))[1]
    url = f"/api/v1/triage/tickets/{ticket['id']}"
    await client.post(f"{url}/claim", headers=staff)
    await client.post(f"{url}/answer", json={"text": "Byt webbläsare."}, headers=staff)
    answers = [m for m in await outbox(services) if ".answer." in m.message_id]
    to = answers[0].headers["Reply-To"]
    assert to == address(services, ticket["reference"])

    text = "Det hjälpte inte, se bilden.\n\nDen 3 mars 2026 skrev Migrationsverket:\n> Byt"
    await send(inbound, reply(to.upper(), text, images=[tiny_png()]))
    detail = (await client.get(url, headers=staff)).json()
    assert detail["status"] == "in_progress"
    replied = [e for e in detail["events"] if e["action"] == "reply"]
    assert [(e["actor"], e["reason"]) for e in replied] == [
        ("anna.berg@stockholm.se", "Det hjälpte inte, se bilden.")
    ]
    [image] = detail["attachments"]
    assert image["content_type"] == "image/png"
    assert replied[0]["detail"]["attachments"] == [image["id"]]


async def test_mail_for_any_other_address_is_refused_with_550(
    client: httpx.AsyncClient, services: Services, inbound: int
) -> None:
    ticket = await api_ticket(client)
    right = address(services, ticket["reference"])
    for to in (
        "svar+SUP-22222222@" + DOMAIN,
        f"svar+{ticket['reference']}@{DOMAIN}",  # the reference alone, as addresses were once
        right.replace(f"@{DOMAIN}", "@annan.se"),
        right[: -len(DOMAIN) - 3] + "aa@" + DOMAIN,  # one MAC character wrong
        reply_address(ticket["reference"], key=b"another key" * 4, domain=DOMAIN),
        "x@" + DOMAIN,
    ):
        message = reply(right, "Hej")
        message.replace_header("To", to)
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await send(inbound, message)
        assert refused.value.recipients[0].code == 550


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({"Auto_Submitted": "auto-replied"}, "anna.berg@stockholm.se"),
        ({"Subject": "Frånvaromeddelande"}, "anna.berg@stockholm.se"),
        ({"Precedence": "bulk"}, "anna.berg@stockholm.se"),
        ({}, "no-reply@statlig-ersattning.invalid"),
    ],
)
async def test_automatic_replies_are_accepted_but_not_added(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    services: Services,
    inbound: int,
    headers: dict[str, str],
    sender: str,
) -> None:
    ticket = await api_ticket(client)
    message = reply(address(services, ticket["reference"]), "Jag är ledig till måndag.")
    for name, value in headers.items():
        del message[name.replace("_", "-")]
        message[name.replace("_", "-")] = value
    await send(inbound, message, sender=sender)
    staff = (await mint(client, admin))[1]
    detail = (await client.get(f"/api/v1/triage/tickets/{ticket['id']}", headers=staff)).json()
    assert [e["action"] for e in detail["events"]] == ["created"]


async def test_a_reply_over_the_size_limit_is_refused(
    client: httpx.AsyncClient, services: Services, inbound: int
) -> None:
    ticket = await api_ticket(client)
    to = address(services, ticket["reference"])
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await send(inbound, reply(to, "x" * (MAX_BYTES + 1)))
    assert refused.value.code == 552


async def test_an_attachment_that_is_no_image_is_left_out_with_the_reason(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, inbound: int
) -> None:
    ticket = await api_ticket(client)
    to = address(services, ticket["reference"])
    await send(inbound, reply(to, "Här.", images=[b"MZ not an image"]))
    staff = (await mint(client, admin))[1]
    detail = (await client.get(f"/api/v1/triage/tickets/{ticket['id']}", headers=staff)).json()
    assert detail["attachments"] == []
    assert "PNG eller JPEG" in detail["events"][-1]["detail"]["refused"][0]


def test_inbound_refuses_to_start_without_a_reply_domain(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from notifier.cli import main

    monkeypatch.delenv("NOTIFIER_REPLY_DOMAIN", raising=False)
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("NOTIFIER_SECRET_KEY", "a-secret-key-long-enough-for-the-check")
    assert main(["inbound", "--port", "0"]) == 2
    assert "NOTIFIER_REPLY_DOMAIN" in capsys.readouterr().err
