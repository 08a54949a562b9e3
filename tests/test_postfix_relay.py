"""Every event type × permission level through our real sender and SMTP transport to a
strict Postfix (tests/postfix_relay.py) and back out of its Maildir: what an operator's
relay accepts and what a recipient's mail system reads."""

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.compensation import EVENT_TYPES
from domain.sqltypes import utcnow
from notifier import db
from notifier.channels.base import PermanentDeliveryError
from notifier.channels.smtp import SmtpConfig, SmtpTransport
from notifier.compose import build_sender, build_services
from notifier.pipeline.events import Event
from notifier.pipeline.models import OutboxMessage
from notifier.pipeline.outbox import record_events
from notifier.settings import Settings
from tests.pipeline_helpers import DYGN, add_user, event_body, outbox
from tests.postfix_relay import DOMAIN, Relay, postfix_binary, start, stop

pytestmark = pytest.mark.postfix

ESERVICE_URL = "https://statligersattning.migrationsverket.se/"
LEVELS = ("full", "summary")
REQUIRED = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Auto-Submitted",
)


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def relay() -> Iterator[Relay]:
    binary = postfix_binary()
    if binary is None:
        unavailable("Postfix is not installed (/usr/sbin/postfix): apt-get install postfix")
    if os.geteuid() != 0:
        unavailable("Postfix's master process starts only as root")
    assert binary is not None
    # Not under pytest's tmp folder: that is private to root, and Postfix's own user
    # delivers into the Maildir.
    root = Path(tempfile.mkdtemp(prefix="notifier-postfix-"))
    try:
        yield start(binary, root)
    finally:
        try:
            stop(binary, root)
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def queued(engine: AsyncEngine) -> AsyncEngine:
    """One event of each type, each matched to a `full` and a `summary` user."""
    async with db.sessionmaker(engine)() as session:
        for number, event_type in enumerate(sorted(EVENT_TYPES)):
            for level in LEVELS:
                user = f"{level}{number}"
                await add_user(session, user, grants={DYGN: level}, subscribed=(event_type,))
        await session.commit()
        events = [Event.model_validate(event_body(t) | extra(t)) for t in sorted(EVENT_TYPES)]
        await record_events(session=session, events=events, now=utcnow())
        await session.commit()
    return engine


def extra(event_type: str) -> dict[str, object]:
    """An announcement with a body line longer than SMTP's 998: it must be encoded, and
    its quoted-printable lines kept short."""
    if event_type != "service.announcement":
        return {}
    line = "Pengarna betalas ut sista bankdagen i september, " * 25
    return {
        "announcement": {"title": "Försenade schabloner", "body": line, "compensation_types": []}
    }


@pytest.mark.parametrize("backend_engine", ["sqlite"], indirect=True)
async def test_every_event_type_and_level_passes_a_strict_postfix(
    relay: Relay, queued: AsyncEngine, settings: Settings
) -> None:
    configured = settings.model_copy(
        update={
            "smtp_url": f"smtp://127.0.0.1:{relay.port}",
            "mail_from": "no-reply@migrationsverket.se",
            "base_url": "https://notifier.migrationsverket.se",
            "eservice_url": ESERVICE_URL,
            "smtp_timeout": 5,
        }
    )
    # The EHLO name is the default one: this machine's FQDN or the sender's domain.
    sender = build_sender(build_services(configured, queued))
    while await sender.send_batch():
        pass
    rows = await outbox(queued)
    assert len(rows) == len(EVENT_TYPES) * len(LEVELS)
    assert {row.status for row in rows} == {"sent"}, [row.last_error for row in rows]
    received = await relay.delivered(len(rows))
    assert len(received) == len(rows)
    encoded = sum(check(raw) for raw in received)
    assert encoded >= len(LEVELS)  # at least the announcement's parts were checked


def check(raw: bytes) -> int:
    """Checks one received email; answers how many quoted-printable parts it has."""
    email = message_from_bytes(raw, policy=policy.strict)  # raises on any defect
    assert isinstance(email, EmailMessage)
    for name in REQUIRED:
        assert len(email.get_all(name) or []) == 1, name
        assert not email[name].defects, (name, email[name].defects)
    assert len(re.findall(rb"(?mi)^MIME-Version:", raw)) == 1
    assert str(email["From"]) == "Migrationsverket <no-reply@migrationsverket.se>"
    assert str(email["Message-ID"]).endswith("@migrationsverket.se>")
    assert str(email["List-Unsubscribe"]).startswith("<https://notifier.migrationsverket.se/")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["Auto-Submitted"] == "auto-generated"
    encoded = [p for p in email.walk() if p["Content-Transfer-Encoding"] == "quoted-printable"]
    for part in encoded:
        assert max(map(len, part.get_payload().splitlines())) <= 78, part.get_content_type()
    text, html = email.get_body(("plain",)), email.get_body(("html",))
    assert text is not None and html is not None
    assert ESERVICE_URL in text.get_content()
    assert f'<a href="{ESERVICE_URL}">' in html.get_content()
    return len(encoded)


async def test_the_relay_refuses_a_single_label_ehlo_name_for_good(relay: Relay) -> None:
    """What `EHLO localhost` met before the name could be set: every message refused."""
    config = SmtpConfig("127.0.0.1", relay.port, helo_name="localhost")
    transport = SmtpTransport(config, "no-reply@migrationsverket.se", timeout=5)
    message = OutboxMessage(id=1, message_id="m", kind="k", recipient=f"a@{DOMAIN}", body_text="x")
    [failure] = (await transport.deliver([message])).values()
    assert isinstance(failure, PermanentDeliveryError)
    assert "need fully-qualified hostname" in str(failure)
