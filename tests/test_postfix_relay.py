"""Every event type × permission level through our real sender and SMTP channel to a
strict Postfix (tests/postfix_relay.py) and back out of its Maildir: what an operator's
relay accepts and what a recipient's mail system reads."""

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.compensation import EVENT_TYPES
from domain.sqltypes import utcnow
from notifier import db
from notifier.channels.base import PermanentDeliveryError
from notifier.channels.smtp import SmtpChannel, SmtpConfig
from notifier.compose import build_sender, build_services
from notifier.outbox.events import Event
from notifier.outbox.models import OutboxMessage
from notifier.outbox.record import record_events
from notifier.settings import Settings
from tests.pipeline_helpers import DYGN, add_user, event_body, outbox
from tests.postfix_relay import DOMAIN, Relay
from tests.strict_email import check, quoted_printable, through_relay

pytestmark = pytest.mark.postfix

LEVELS = ("full", "summary")


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
    relay.empty()
    sender = build_sender(build_services(through_relay(settings, relay.port), queued))
    while await sender.send_batch():
        pass
    rows = await outbox(queued)
    assert len(rows) == len(EVENT_TYPES) * len(LEVELS)
    assert {row.status for row in rows} == {"sent"}, [row.last_error for row in rows]
    received = await relay.delivered(len(rows))
    assert len(received) == len(rows)
    encoded = sum(len(quoted_printable(check(raw))) for raw in received)
    assert encoded >= len(LEVELS)  # at least the announcement's parts were checked


async def test_the_relay_refuses_a_single_label_ehlo_name_for_good(relay: Relay) -> None:
    """What `EHLO localhost` met before the name could be set: every message refused."""
    config = SmtpConfig("127.0.0.1", relay.port, helo_name="localhost")
    channel = SmtpChannel(config, "no-reply@migrationsverket.se", timeout=5)
    message = OutboxMessage(id=1, message_id="m", kind="k", recipient=f"a@{DOMAIN}", body_text="x")
    [failure] = (await channel.deliver([message])).values()
    assert isinstance(failure, PermanentDeliveryError)
    assert "need fully-qualified hostname" in str(failure)
