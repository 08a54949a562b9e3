"""Every hand-written support mail of tests/mail_questions/ through a real SMTP connection
to `notifier inbound`, end to end to its ticket and its reply; the folder's accuracy
(destination right / fields right) printed, each miss named."""

import tomllib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from notifier.compose import Services
from notifier.outbox.models import OutboxMessage
from notifier.settings import Settings
from routing.ticketing.models import Ticket
from tests import test_inbound
from tests.test_inbound import DOMAIN, send, tiny_png
from tests.test_mail_questions import SUPPORT

FOLDER = Path(__file__).parent / "mail_questions"
FIELDS = (
    "issue_type",
    "login_step",
    "login_method",
    "compensation_type",
    "target_group",
    "diarienummer",
    "browser",
)
# The floor this folder holds; the printed table says where it stands above it.
MIN_DESTINATIONS, MIN_FIELDS = 0.95, 0.85

inbound = test_inbound.inbound


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"reply_domain": DOMAIN, "support_addresses": SUPPORT})


def cases() -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.stem, tomllib.loads(path.read_text("utf-8")))
        for path in sorted(FOLDER.glob("*.toml"))
    ]


def mail_of(name: str, case: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = case["from"], case["to"]
    message["Subject"] = case["subject"]
    message["Message-ID"] = f"<{name}@example.se>"
    if "html" in case:
        message.set_content(case["html"], subtype="html")
        if case.get("screenshot") == "inline":
            message.add_related(tiny_png(), "image", "png", cid="<image001.png@01DA2B3C.4D5E6F70>")
    else:
        message.set_content(case["text"])
    if case.get("screenshot") == "attached":
        message.add_attachment(tiny_png(), maintype="image", subtype="png", filename="bild.png")
    return message


def derived(ticket: Ticket) -> dict[str, str | None]:
    found = {name: hit["value"] for name, hit in ticket.decision["rule"]["fields"].items()}
    found["browser"] = "ie" if found.get("browser") else None
    return {name: found.get(name) for name in FIELDS}


def expected(case: dict[str, Any]) -> dict[str, str | None]:
    return {name: case["expected"].get(name) for name in FIELDS}


async def newest(services: Services) -> tuple[Ticket, OutboxMessage | None]:
    async with services.sessions() as db:
        query = select(Ticket).order_by(col(Ticket.created_at).desc()).limit(1)
        ticket = (await db.exec(query)).one()
        reply = await db.exec(
            select(OutboxMessage).where(
                OutboxMessage.message_id == f"ticket.{ticket.id}.mail-reply"
            )
        )
        return ticket, reply.first()


async def test_the_folder_of_support_mails_end_to_end(services: Services, inbound: int) -> None:
    folder = cases()
    assert len(folder) >= 40
    misses: list[str] = []
    destinations = fields = 0
    for name, case in folder:
        await send(inbound, mail_of(name, case), sender=case["from"].rpartition("<")[2].rstrip(">"))
        ticket, reply = await newest(services)
        assert ticket.channel == "email" and ticket.mailbox == case["to"]
        assert reply is not None and reply.headers["In-Reply-To"] == f"<{name}@example.se>"
        assert ("Reply-To" in reply.headers) == (ticket.status != "deflected")
        want, got = expected(case), derived(ticket)
        destinations += ticket.destination == case["expected"]["destination"]
        fields += want == got
        if ticket.destination != case["expected"]["destination"] or want != got:
            wrong = {k: (want[k], got[k]) for k in FIELDS if want[k] != got[k]}
            misses.append(f"{name}: {ticket.destination} (rule {ticket.rule_id}) {wrong}")
    total = len(folder)
    print(
        f"\n{total} mails: destination right {destinations}/{total} "
        f"({destinations / total:.0%}), fields right {fields}/{total} ({fields / total:.0%})"
    )
    print("\n".join(misses))
    assert destinations / total >= MIN_DESTINATIONS and fields / total >= MIN_FIELDS, misses
