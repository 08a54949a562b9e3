"""Issue 12's "Done when" as one story, through a strict Postfix (tests/postfix_relay.py):
a user follows the "Mina notifieringar" link of an email they received, switches one
event type off and moves to daily delivery, and then gets exactly one digest from
`notifier digest --now`, however often it runs."""

import asyncio
import os
import re
import sys
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.sqltypes import utcnow
from domain.swedish import kronor
from notifier import db
from notifier.compose import build_sender, build_services
from notifier.outbox.events import Event
from notifier.outbox.models import OutboxKind, OutboxStatus
from notifier.outbox.record import record_events
from notifier.settings import Settings
from subscriptions import store
from tests.factories import DYGN, add_user, event_body
from tests.pipeline_helpers import outbox
from tests.postfix_relay import Relay
from tests.strict_email import BASE_URL, check, text_of, through_relay

pytestmark = pytest.mark.postfix

ROOT = Path(__file__).resolve().parents[1]
USER = "anna-4711"
PAID, SUBMITTED = "payment.disbursed", "application.submitted"
PERSON = "Ali Hassan"  # tests.factories.event_body's person
LATER_PAYMENT = {"amount_sek": "98765.00", "paid_on": "2026-11-26"}


@pytest.fixture
def settings(settings: Settings, relay: Relay) -> Settings:
    """The web app and every process of the story send through this module's Postfix."""
    relay.empty()
    return through_relay(settings, relay.port)


async def test_a_user_chooses_daily_from_an_email_and_gets_exactly_one_digest(
    relay: Relay, engine: AsyncEngine, settings: Settings, client: httpx.AsyncClient
) -> None:
    await subscribed_user(engine)
    await consume(engine, event_body(PAID))
    assert await send_due(settings, engine) == 1
    first = check((await relay.delivered(1))[0])
    assert PERSON in text_of(first) and kronor(Decimal("12345.50")) in text_of(first)

    link = preferences_link(text_of(first))
    await choose(client, link, switch_off=SUBMITTED, delivery="daily")
    assert await preferences(engine) == ({PAID}, "daily")

    await consume(engine, event_body(PAID, payment=LATER_PAYMENT), event_body(SUBMITTED))
    later = (await outbox(engine))[1:]
    assert [(row.kind, row.status) for row in later] == [
        (OutboxKind.DIGEST_ITEM, OutboxStatus.HELD)  # nothing at all for SUBMITTED
    ]
    assert await send_due(settings, engine) == 0

    assert (await notifier_digest_now(settings, engine)).startswith("1 nya sammanfattningar")
    emails = [check(raw) for raw in await relay.delivered(2)]
    [digest] = [e for e in emails if str(e["Message-ID"]).startswith("<digest.")]
    print(f"\n--- the digest's text part ---\n{text_of(digest)}--- end ---")
    assert_lists_the_held_payment(text_of(digest))
    html = digest.get_body(("html",))
    assert html is not None and PERSON in html.get_content()
    assert "Ansökan har kommit in" not in html.get_content()
    page = await client.get(preferences_link(text_of(digest)))
    assert 'value="daily" checked' in page.text

    assert (await notifier_digest_now(settings, engine)).startswith("0 nya sammanfattningar")
    await asyncio.sleep(1.0)  # time for a stray message to reach the Maildir
    assert len(await relay.delivered(2)) == 2, relay.log()


def assert_lists_the_held_payment(text: str) -> None:
    """The one held item at the `full` grant in force: amount and person; neither the
    payment already emailed at once nor the switched-off event type."""
    assert "en händelse." in text
    assert "Utbetalning gjord – Dygnsschablon" in text
    assert f"Belopp: {kronor(Decimal('98765.00'))}" in text and f"Gäller: {PERSON}" in text
    assert "1.1.3-2026-123456" in text
    assert kronor(Decimal("12345.50")) not in text
    assert "Ansökan har kommit in" not in text


async def subscribed_user(engine: AsyncEngine) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(session, USER, grants={DYGN: "full"}, subscribed=(PAID, SUBMITTED))
        await session.commit()


async def consume(engine: AsyncEngine, *bodies: dict[str, Any]) -> None:
    """What the consumer does with one batch of events (tests/test_digest.py)."""
    async with db.sessionmaker(engine)() as session:
        events = [Event.model_validate(body) for body in bodies]
        await record_events(session=session, events=events, now=utcnow())
        await session.commit()


async def send_due(settings: Settings, engine: AsyncEngine) -> int:
    """A sender process of its own (`notifier send`) emptying the outbox of what is due."""
    process = build_services(settings, engine)
    async with process.resources:
        sender = build_sender(process)
        sent = 0
        while batch := await sender.send_batch():
            sent += batch
    return sent


async def notifier_digest_now(settings: Settings, engine: AsyncEngine) -> str:
    """The operator's command, in a process of its own configured by the environment."""
    assert settings.smtp_url and settings.eservice_url and settings.secret_key
    names = {key: value for key, value in os.environ.items() if not key.startswith("NOTIFIER_")}
    env = names | {
        "NOTIFIER_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "NOTIFIER_SMTP_URL": settings.smtp_url,
        "NOTIFIER_SMTP_TIMEOUT": str(settings.smtp_timeout),
        "NOTIFIER_MAIL_FROM": settings.mail_from,
        "NOTIFIER_BASE_URL": settings.base_url,
        "NOTIFIER_ESERVICE_URL": settings.eservice_url,
        "NOTIFIER_SECRET_KEY": settings.secret_key.get_secret_value(),
        "NOTIFIER_MAIL_DIR": str(settings.mail_dir),
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "notifier", "digest", "--now"),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out.decode()


def preferences_link(text: str) -> str:
    found = re.findall(rf"{re.escape(BASE_URL)}/mina-notifieringar/\S+", text)
    assert len(found) == 1, text
    return str(found[0])


class Inputs(HTMLParser):
    """The <input> elements of a page, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.found.append(dict(attrs))


async def choose(client: httpx.AsyncClient, link: str, *, switch_off: str, delivery: str) -> None:
    """Submit the page's form as a browser would after the user unticked one box and
    picked a delivery: hidden fields as given, the other ticked boxes kept."""
    page = await client.get(link)
    assert page.status_code == 200, page.text
    parser = Inputs()
    parser.feed(page.text)
    data: dict[str, list[str]] = {}
    for field in parser.found:
        name, value, kind = field["name"] or "", field.get("value") or "", field.get("type")
        ticked = "checked" in field
        if kind == "checkbox" and value == switch_off:
            assert ticked, f"{switch_off} was not on before"
        keep = (
            kind == "hidden"
            or (kind == "checkbox" and ticked and value != switch_off)
            or (kind == "radio" and value == delivery)
        )
        if keep:
            data.setdefault(name, []).append(value)
    assert "csrf_token" in data and data.get("delivery") == [delivery], data
    saved = await client.post(link, data=data)  # the form has no action: its own address
    assert saved.status_code == 303, saved.text
    confirmed = await client.get(saved.headers["location"])
    assert "Dina val är sparade" in confirmed.text


async def preferences(engine: AsyncEngine) -> tuple[set[str], str]:
    async with db.sessionmaker(engine)() as session:
        state = await store.get_subscriptions(session=session, user_id=USER)
    return {s.event_type for s in state.subscriptions if s.enabled}, state.delivery
