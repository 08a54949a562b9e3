"""Who may write into a ticket by email, and what the relay hears when something is away
(issue 22: findings 2, 3, 6, 9), on a real SMTP connection to `notifier inbound`."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest

from domain.sqltypes import utcnow
from notifier import db
from notifier.compose import Services
from notifier.inbound.mail import Refusal
from notifier.inbound.server import Inbound, Throttle
from notifier.workers.retention import purge
from tests.inbound_server import running
from tests.test_inbound_hostile import (
    ANNA,
    DOMAIN,
    plain,
    raw,
    replies_of,
    smtp,
    ticket_and_address,
)
from tests.test_inbound_hostile import handler as handler
from tests.test_inbound_hostile import port as port
from tests.test_inbound_hostile import settings as settings
from tests.test_triage import csrf_of, login, mint

RELAY = "mx1.migrationsverket.se"


def results(header: str) -> bytes:
    return b"Authentication-Results: " + header.encode() + b"\n"


async def answered(client: httpx.AsyncClient, staff: dict[str, str], ticket_id: str) -> None:
    url = f"/api/v1/triage/tickets/{ticket_id}"
    await client.post(f"{url}/claim", headers=staff)
    await client.post(f"{url}/answer", json={"text": "Byt webbläsare."}, headers=staff)


async def test_a_forged_from_is_held_until_staff_accept_it(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, port: int
) -> None:
    staff = (await mint(client, admin))[1]
    ticket_id, to = await ticket_and_address(client, services)
    await answered(client, staff, ticket_id)
    forged = raw(to, plain(b"Skicka beslutet till mig i st\xc3\xa4llet.")).replace(
        ANNA.encode(), b"erik.lund@example.se"
    )
    assert (await smtp(port, to, forged, sender="erik.lund@example.se"))[0] == 250

    url = f"/api/v1/triage/tickets/{ticket_id}"
    detail = (await client.get(url, headers=staff)).json()
    [held] = [e for e in detail["events"] if e["action"] == "reply"]
    assert held["actor"] == "erik.lund@example.se"
    assert held["detail"]["held"] == "Svaret kommer från en annan adress än den som frågade."
    assert detail["status"] == "answered"  # a held reply reopens nothing

    await login(client, staff)
    page = await client.get(f"/triage/arenden/{ticket_id}")
    assert "Väntar på granskning" in page.text and "Godkänn svaret" in page.text
    accepted = await client.post(
        f"/triage/arenden/{ticket_id}/accept",
        data={"csrf_token": csrf_of(page), "reply": str(held["id"])},
    )
    assert accepted.status_code == 303
    detail = (await client.get(url, headers=staff)).json()
    assert detail["status"] == "in_progress"
    assert detail["events"][-2]["action"] == "reply_accepted"
    assert detail["events"][-2]["detail"] == {"reply": held["id"]}
    again = await client.post(f"{url}/replies/{held['id']}/accept", headers=staff)
    assert again.status_code == 409
    page = await client.get(f"/triage/arenden/{ticket_id}")
    assert "Väntar på granskning" not in page.text and "Granskat och godkänt" in page.text


async def test_staff_accept_a_held_reply_through_the_api(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, port: int
) -> None:
    staff = (await mint(client, admin))[1]
    ticket_id, to = await ticket_and_address(client, services)
    other = raw(to, plain(b"Hej")).replace(ANNA.encode(), b"anna.berg@gmail.com")
    await smtp(port, to, other)
    [held] = await replies_of(services, ticket_id)
    url = f"/api/v1/triage/tickets/{ticket_id}/replies"
    assert (await client.post(f"{url}/{held.id}/accept", headers=staff)).status_code == 200
    assert (await client.post(f"{url}/999999/accept", headers=staff)).status_code == 409
    assert (await client.post(f"{url}/{held.id}/accept")).status_code == 401


@pytest.mark.parametrize(
    ("headers", "held"),
    [
        (results(f"{RELAY}; spf=pass smtp.mailfrom={ANNA}; dkim=pass; dmarc=pass"), None),
        (results(f"{RELAY}; spf=fail smtp.mailfrom={ANNA}; dmarc=fail (p=reject)"), "DMARC"),
        (results(f"{RELAY}; spf=fail smtp.mailfrom={ANNA}; dmarc=none"), "DMARC"),
        (results(f"{RELAY} 1; dkim=fail; dmarc=pass header.from=stockholm.se"), None),
        # The sender's own header with the relay's name beside the relay's verdict.
        (
            results(f"{RELAY}; dmarc=fail header.from=stockholm.se")
            + results(f"{RELAY}; spf=pass (dmarc=pass) dmarc=pass"),
            "DMARC",
        ),
        (results("mx.elsewhere.example; dmarc=pass; spf=pass"), "kontroll"),
        (b"", "kontroll"),  # not through the relay at all
    ],
)
async def test_the_trusted_relays_authentication_results_are_honoured(
    client: httpx.AsyncClient,
    services: Services,
    handler: Inbound,
    port: int,
    headers: bytes,
    held: str | None,
) -> None:
    handler.mailboxes[0].trusted_relay = RELAY  # type: ignore[attr-defined]
    ticket_id, to = await ticket_and_address(client, services)
    assert (await smtp(port, to, raw(to, plain(b"Hej"), headers=headers)))[0] == 250
    [reply] = await replies_of(services, ticket_id)
    assert (reply.detail.get("held") is None) if held is None else held in reply.detail["held"]


async def test_refused_recipients_are_throttled_per_client(
    client: httpx.AsyncClient,
    services: Services,
    handler: Inbound,
    port: int,
) -> None:
    handler.throttle = Throttle(limit=5, window=60)
    _, to = await ticket_and_address(client, services)
    guesser = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10)
    await guesser.connect()
    await guesser.ehlo()
    await guesser.mail(ANNA)
    codes = []
    for guess in range(5):
        reply = await guesser.execute_command(
            f"RCPT TO:<svar+sup-2222222{guess + 2}@{DOMAIN}>".encode()
        )
        codes.append(reply.code)
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        reply = await guesser.execute_command(f"RCPT TO:<{to}>".encode())  # the right one
        codes.append(reply.code)
        await guesser.noop()
    assert codes == [550] * 5 + [421]
    # A new connection from the same client is turned away as well, until the window ends.
    code, message = await smtp(port, to, raw(to, plain(b"Hej")))
    assert (code, message) == (421, "4.7.0 Too many refused recipients, try again later")


async def test_a_reply_to_a_purged_ticket_is_refused_at_rcpt(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, port: int
) -> None:
    staff = (await mint(client, admin))[1]
    ticket_id, to = await ticket_and_address(client, services)
    closed = await client.post(f"/api/v1/triage/tickets/{ticket_id}/close", json={}, headers=staff)
    assert closed.status_code == 200, closed.text
    later = utcnow() + timedelta(days=120)
    assert (await purge(services.sessions, older_than=timedelta(days=90), now=later)).tickets == 1

    code, message = await smtp(port, to, raw(to, plain(b"Jag har en fr\xc3\xa5ga till.")))
    assert code == 550 and message.isascii() and "deleted" in message
    assert await replies_of(services, ticket_id) == []


@pytest.fixture
async def broken_sessions(tmp_path: Path) -> AsyncIterator[object]:
    """Sessions of a database that is not there (its directory does not exist)."""
    engine = db.create_engine(f"sqlite:///{tmp_path}/gone/notifier.db")
    yield db.sessionmaker(engine)
    await engine.dispose()


async def test_a_database_outage_at_rcpt_is_a_transient_451(
    client: httpx.AsyncClient,
    services: Services,
    handler: Inbound,
    port: int,
    broken_sessions: object,
) -> None:
    _, to = await ticket_and_address(client, services)
    handler.mailboxes[0].sessions = broken_sessions  # type: ignore[attr-defined]
    code, message = await smtp(port, to, raw(to, plain(b"Hej")))
    assert (code, message) == (451, "4.3.0 Temporary failure, please try again later")


async def test_a_database_outage_at_data_is_a_transient_451(
    client: httpx.AsyncClient,
    services: Services,
    handler: Inbound,
    port: int,
    broken_sessions: object,
) -> None:
    _, to = await ticket_and_address(client, services)
    sender = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10)
    await sender.connect()
    await sender.ehlo()
    await sender.mail(ANNA)
    await sender.rcpt(to)
    handler.mailboxes[0].sessions = broken_sessions  # type: ignore[attr-defined]
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await sender.data(raw(to, plain(b"Hej")))
    assert (refused.value.code, refused.value.message) == (
        451,
        "4.3.0 Temporary failure, please try again later",
    )
    sender.close()


@dataclass
class Failing:
    """A mailbox whose delivery fails as a bug would, with words no SMTP reply may carry."""

    name: str = "failing"

    async def accept(self, address: str) -> str | None:
        if address.startswith("refuse"):
            raise Refusal("550 5.1.1 Ärendet är gallrat")  # not ASCII: sent as '?'
        return address

    async def deliver(self, message: EmailMessage, keys: list[str], mail_from: str) -> str:
        if keys[0].startswith("svar"):
            return "250 OK: tillagt i ärendet"
        raise ValueError("Texten innehåller otillåtna tecken (styrtecken). INSERT INTO …")


@pytest.fixture
async def failing_port() -> AsyncIterator[int]:
    handler = Inbound([Failing()], hostname=DOMAIN)
    async with running(handler, max_bytes=100_000) as port:
        yield port


async def test_an_error_in_a_mailbox_is_a_fixed_ascii_reply_never_a_hang(
    failing_port: int,
) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=failing_port, timeout=5)
    await client.connect()
    await client.ehlo()
    await client.mail(ANNA)
    await client.rcpt("fel@" + DOMAIN)
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await client.data(raw("fel@" + DOMAIN, plain(b"Hej")))
    assert (refused.value.code, refused.value.message) == (
        554,
        "5.3.0 The message could not be processed",
    )
    await client.mail(ANNA)  # the session goes on
    await client.rcpt("svar@" + DOMAIN)
    done = await client.data(raw("svar@" + DOMAIN, plain(b"Hej")))
    assert (done.code, done.message) == (250, "OK: tillagt i ?rendet")
    await client.mail(ANNA)
    with pytest.raises(aiosmtplib.SMTPRecipientRefused) as gone:
        await client.rcpt("refuse@" + DOMAIN)
    assert re.fullmatch(r"5\.1\.1 \?rendet \?r gallrat", gone.value.message)
    client.close()
