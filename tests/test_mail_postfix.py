"""docs/operations.md's Postfix lines, held: a strict Postfix (tests/postfix_relay.py) with
the support addresses in its transport map hands a person's mail to `notifier inbound`,
which makes the routed ticket."""

import asyncio
import subprocess
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from sqlmodel import select

from notifier.compose import Services
from routing.ticketing.models import Ticket
from tests import test_inbound
from tests.postfix_relay import Relay, postfix, postfix_binary
from tests.test_mail_questions import KOMMUN, SEA, settings  # noqa: F401

pytestmark = pytest.mark.postfix
inbound = test_inbound.inbound
# The client service the transport's `smtp:` entries need (the test relay only delivers
# into its Maildir otherwise).
SMTP_CLIENT = "smtp unix - - n - - smtp\n"


def hand_support_addresses_to(relay: Relay, port: int) -> None:
    """The operations page's lines: the addresses to `notifier inbound` by the transport
    map (inline here: no postmap), their domain relayed."""
    master = relay.root / "etc" / "master.cf"
    if SMTP_CLIENT not in master.read_text():
        master.write_text(master.read_text() + SMTP_CLIENT)
    entries = ", ".join(f"{a}=smtp:[127.0.0.1]:{port}" for a in (KOMMUN, SEA))
    binary = postfix_binary()
    assert binary is not None
    postconf = str(Path(binary).with_name("postconf"))
    changes = [
        "relay_domains=migrationsverket.se",
        f"transport_maps=inline:{{{entries}}}",
        "smtp_helo_name=relay.postfix-test.invalid",
    ]
    subprocess.run([postconf, "-c", str(relay.root / "etc"), "-e", *changes], check=True)
    postfix(binary, relay.root, "reload")


async def tickets(services: Services, *, within: float = 20.0) -> list[Ticket]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with services.sessions() as db:
            if found := list((await db.exec(select(Ticket))).all()):
                return found
        await asyncio.sleep(0.1)
    return []


@pytest.mark.parametrize("backend_engine", ["sqlite"], indirect=True)
async def test_postfix_hands_a_support_mail_to_notifier_inbound(
    relay: Relay, services: Services, inbound: int
) -> None:
    hand_support_addresses_to(relay, inbound)
    mail = EmailMessage()
    mail["From"] = "Anna Berg <anna.berg@goteborg.se>"
    mail["To"] = KOMMUN
    mail["Subject"] = "Kommer inte in"
    mail["Message-ID"] = "<postfix-1@goteborg.se>"
    mail["Date"] = "Mon, 07 Dec 2026 10:00:00 +0100"
    mail.set_content("Jag får ett fel när jag väljer E-tjänstelegitimation – SITHS.")
    await aiosmtplib.send(
        mail, hostname="127.0.0.1", port=relay.port, local_hostname="kommun.example.se"
    )
    found = await tickets(services)
    assert found, relay.log()
    [ticket] = found
    assert (ticket.channel, ticket.destination, ticket.rule_id) == (
        "email",
        "mv_kontaktcenter_kommun",
        "login-step1-kommun",
    )
    assert ticket.inquiry["organisation"] == {"kind": "kommun", "code": "1480"}
