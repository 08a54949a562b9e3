"""The story of issue 23 through a real Postfix (tests/postfix_relay.py): our email to an
address the relay refuses locally comes back as Postfix's own DSN to bounce+…@reply
domain, routed by the transport_maps line of docs/operations.md to the real `notifier
inbound`; the address is suppressed, the e-service is told on notifier.outcomes, the next
email to it never reaches the relay, and a new address mirrored for the user is mailed."""

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlmodel import select

from notifier import compose
from notifier.compose import Services
from notifier.inbound.bounces import Bounces
from notifier.settings import Settings
from subscriptions.suppressions import Suppression
from tests import postfix_relay
from tests.inbound_server import running
from tests.pipeline_helpers import eventually
from tests.postfix_relay import DOMAIN, Relay
from tests.smtp_server import free_port
from tests.strict_email import through_relay
from tests.test_bounces import add, event, rows

pytestmark = pytest.mark.postfix

REPLY_DOMAIN = "svar.example.se"
INBOUND_PORT = free_port()
GONE = f"slutat@{DOMAIN}"
OPERATIONS = Path(__file__).parent.parent / "docs" / "operations.md"
# The line of docs/operations.md as it stands, with the test's own inbound, and the
# address the relay refuses: Postfix's error(8) transport bounces it with this status.
[DOCUMENTED] = [
    line for line in OPERATIONS.read_text().splitlines() if line.startswith("/^(bounce|svar)")
]
TRANSPORT = (
    DOCUMENTED.replace(":2525", f":{INBOUND_PORT}")
    + f"\n/^{GONE.replace('.', '[.]')}$/ error:5.1.1 Mailbox does not exist\n"
)


@pytest.fixture(scope="module")
def relay() -> Iterator[Relay]:
    # Accepted at RCPT and refused after: as a relay that learns of a mailbox only when it
    # delivers (smtpd would otherwise answer the error transport's 550 itself).
    extra = {
        "transport_maps": "regexp:{etc}/transport_regexp",
        "smtpd_reject_unlisted_recipient": "no",
    }
    with postfix_relay.running(extra, {"transport_regexp": TRANSPORT}) as started:
        yield started


@pytest.fixture
def outcomes_exchange() -> str:
    return f"test.outcomes.{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(settings: Settings, relay: Relay, outcomes_exchange: str) -> Settings:
    return through_relay(settings, relay.port).model_copy(
        update={"reply_domain": REPLY_DOMAIN, "outcomes_exchange": outcomes_exchange}
    )


@dataclass
class Kept(Bounces):
    """The bounce mailbox, keeping what it received for the test to show."""

    received: list[EmailMessage] = field(default_factory=list)

    async def deliver(self, message: EmailMessage, keys: list[str], mail_from: str) -> str:
        self.received.append(message)
        return await super().deliver(message, keys, mail_from)


@pytest.fixture
async def inbound(services: Services) -> AsyncIterator[list[EmailMessage]]:
    handler = compose.build_inbound(services)
    [bounces] = [mailbox for mailbox in handler.mailboxes if isinstance(mailbox, Bounces)]
    kept = Kept(bounces.sessions, bounces.return_path, bounces.soft_limit, bounces.soft_window)
    handler.mailboxes = [kept if mailbox is bounces else mailbox for mailbox in handler.mailboxes]
    async with running(handler, max_bytes=1_000_000, port=INBOUND_PORT):
        yield kept.received


async def suppressed(services: Services) -> list[Suppression]:
    async with services.sessions() as session:
        return list((await session.exec(select(Suppression))).all())


@pytest.mark.parametrize("backend_engine", ["postgresql"], indirect=True)
async def test_postfix_s_own_dsn_suppresses_the_address_until_a_new_one_is_mirrored(
    relay: Relay,
    services: Services,
    inbound: list[EmailMessage],
    client: httpx.AsyncClient,
    admin: dict[str, str],
    amqp: AbstractRobustConnection,
    outcomes_exchange: str,
    tmp_path: Path,
) -> None:
    relay.empty()
    channel = await amqp.channel()
    exchange = await channel.declare_exchange(outcomes_exchange, "topic", durable=True)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key="email.undeliverable")
    try:
        async with services.resources:
            sender = compose.build_sender(services)
            await add(services, "slutat")
            await event(services)
            while await sender.send_batch():
                pass
            [first] = await rows(services)
            assert first.status == "sent", first.last_error

            async def bounced() -> bool:
                return bool(await suppressed(services))

            await eventually(bounced, within=30, what=f"the DSN\n{relay.log()}")
            [dsn] = inbound
            print("\n--- the DSN as notifier inbound received it ---\n" + dsn.as_string())
            (tmp_path / "dsn.eml").write_text(dsn.as_string())
            assert dsn["Subject"] == "Undelivered Mail Returned to Sender"
            assert dsn.get_content_type() == "multipart/report"
            [suppression] = await suppressed(services)
            print(f"--- the suppression ---\n{suppression!r}")
            assert (suppression.email, suppression.status) == (GONE, "5.1.1")
            assert "Mailbox does not exist" in suppression.diagnostic
            [first] = await rows(services)
            assert first.status == "bounced"

            await event(services)
            while await sender.send_batch():
                pass
            statuses = [row.status for row in await rows(services)]
            assert statuses == ["bounced", "suppressed"]
            message = await queue.get(timeout=10)
            told = json.loads(message.body)
            print(f"--- email.undeliverable ---\n{told}")
            assert (told["user_ids"], told["email"], told["status"]) == (["slutat"], GONE, "5.1.1")
            await message.ack()

            new = {"email": f"ny@{DOMAIN}", "name": "Ny", "organisation": {
                "kind": "kommun", "code": "0180"}}  # fmt: skip
            answer = await client.put("/api/v1/users/slutat", json=new, headers=admin)
            assert answer.json()["email_status"]["state"] == "ok"
            await event(services)
            while await sender.send_batch():
                pass
            assert [row.status for row in await rows(services)][-1] == "sent"
            [delivered] = await relay.delivered(1)  # the refused address got nothing
            assert f"To: ny@{DOMAIN}".encode() in delivered
    finally:
        await channel.exchange_delete(outcomes_exchange)
        await channel.close()
