"""A working day of an operator in the console, end to end in a real browser: log in,
find why a user got no email, retry a failed email and see it sent, replay a dead letter,
preview every template at a phone's and a desktop's width, send a test to the SMTP server,
write an announcement for two compensation types, see its recipients, schedule it, see
exactly the right users get it once at its minute, and cancel another. axe on every page.

Real processes: `notifier api`, `consume` and `send` on one SQLite file, the machine's
RabbitMQ (names of this run's own), and an SMTP server (aiosmtpd) in this process. The
scheduler's minute is reached by running its round at that time (`send_due`): the clock
is the test's, the rest is the service's."""

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import aio_pika
import httpx
import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import update
from sqlmodel import col

from domain.sqltypes import utcnow
from domain.swedish import SWEDISH_TIME
from notifier import db
from notifier.console import announcements
from notifier.console.previews import TEMPLATES
from notifier.outbox.models import OutboxMessage, OutboxStatus
from notifier.workers.broker import (
    REASON_HEADER,
    ROUTING_KEY_HEADER,
    TIME_HEADER,
    Topology,
    declare,
)
from tests.browser.conftest import ADMIN_TOKEN, _free_port, _require_chromium, _wait_until_up
from tests.browser.helpers import axe_violations, describe
from tests.factories import DYGN, FAST, MASSFLYKT, event_body
from tests.smtp_server import Mailbox, start_smtp

pytestmark = pytest.mark.browser
AMQP = "amqp://guest:guest@127.0.0.1:5672/"
DOCS = Path(__file__).resolve().parents[2] / "docs"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NEWS = "service.announcement"
PAID = "payment.disbursed"
# user id → (grants, subscribed event types, subscriptions enabled)
USERS = {
    "anna": ({DYGN: "full"}, [PAID, NEWS], True),
    "erik": ({MASSFLYKT: "summary"}, [NEWS], True),
    "olle": ({DYGN: "full"}, [PAID, NEWS], False),
    "lisa": ({FAST: "full"}, [PAID, NEWS], True),
}


@dataclass(frozen=True)
class Service:
    url: str
    var: Path
    topology: Topology
    mailbox: Mailbox


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    _require_chromium()
    var = tmp_path_factory.mktemp("console-var")
    suffix = uuid.uuid4().hex[:10]
    topology = Topology(
        exchange=f"test.console.{suffix}",
        queue=f"test.console.{suffix}",
        dead_letter_queue=f"test.console.{suffix}.dead",
    )
    smtp_port, web = _free_port(), _free_port()
    controller, mailbox = start_smtp(smtp_port)
    env = os.environ | {
        "NOTIFIER_DATABASE_URL": f"sqlite:///{var}/notifier.db",
        "NOTIFIER_MAIL_DIR": str(var / "mail"),
        "NOTIFIER_ADMIN_TOKEN": ADMIN_TOKEN,
        "NOTIFIER_SECRET_KEY": "browser-secret-key-of-at-least-32-bytes",
        "NOTIFIER_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "NOTIFIER_AMQP_URL": AMQP,
        "NOTIFIER_EVENTS_EXCHANGE": topology.exchange,
        "NOTIFIER_EVENTS_QUEUE": topology.queue,
        "NOTIFIER_DEAD_LETTER_QUEUE": topology.dead_letter_queue,
        "NOTIFIER_SEND_POLL_SECONDS": "0.2",
        "NOTIFIER_BASE_URL": f"http://127.0.0.1:{web}",
    }
    log = (var / "server.log").open("wb")
    run = [sys.executable, "-m", "notifier"]
    api = subprocess.Popen(
        [*run, "api", "--host", "127.0.0.1", "--port", str(web)], env=env, stdout=log, stderr=log
    )
    processes = [api]
    try:
        _wait_until_up(f"http://127.0.0.1:{web}", api)  # migrated before the others start
        for command in ("consume", "send"):
            processes.append(subprocess.Popen([*run, command], env=env, stdout=log, stderr=log))
        yield Service(f"http://127.0.0.1:{web}", var, topology, mailbox)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        controller.stop()
        log.close()
        asyncio.run(_forget(topology))


async def _forget(topology: Topology) -> None:
    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        for queue in (topology.queue, topology.dead_letter_queue):
            await channel.queue_delete(queue)
        await channel.exchange_delete(topology.exchange)


async def check(page: Page) -> None:
    violations = await axe_violations(page)
    assert violations == [], f"{page.url}\n{describe(violations)}"


def mails(mailbox: Mailbox) -> list[Message]:
    return [message_from_bytes(raw, policy=policy.default) for raw in list(mailbox.raw)]


async def eventually_mail(mailbox: Mailbox, wanted: int, subject: str) -> list[Message]:
    for _ in range(150):
        found = [m for m in mails(mailbox) if subject in str(m["Subject"])]
        if len(found) >= wanted:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{wanted} mails about {subject!r} never came")


async def publish(topology: Topology, body: dict[str, object]) -> None:
    await announcements.publisher(AMQP, topology)([body])


async def bury(topology: Topology, body: dict[str, object]) -> None:
    """A valid event in the dead-letter queue, as one dead-lettered before a fix."""
    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        await declare(channel, topology)
        headers = {
            REASON_HEADER: "unknown event type",
            ROUTING_KEY_HEADER: PAID,
            TIME_HEADER: "2026-12-07T08:00:00+00:00",
        }
        message = aio_pika.Message(json.dumps(body).encode(), headers=headers)
        await channel.default_exchange.publish(message, routing_key=topology.dead_letter_queue)


async def set_up(service: Service) -> tuple[str, str]:
    """The users, an event they were matched against, and an operator's token."""
    async with httpx.AsyncClient(base_url=service.url, headers=ADMIN) as http:
        for user_id, (grants, types, enabled) in USERS.items():
            user = {
                "email": f"{user_id}@kommun.example.se",
                "name": user_id.title(),
                "organisation": {"kind": "kommun", "code": "0180"},
            }
            assert (await http.put(f"/api/v1/users/{user_id}", json=user)).status_code < 300
            await http.put(f"/api/v1/users/{user_id}/permissions", json={"grants": grants})
            subscriptions = {"enabled": enabled, "event_types": types}
            await http.put(f"/api/v1/users/{user_id}/subscriptions", json=subscriptions)
        operator = await http.post(
            "/api/v1/staff", json={"name": "Olle Drift", "roles": ["operator"]}
        )
    event = event_body(PAID, occurred_at=utcnow().isoformat())
    await publish(service.topology, event)
    await eventually_mail(service.mailbox, 1, "")
    return str(event["event_id"]), operator.json()["token"]


async def test_an_operators_day(browser: Browser, service: Service, tmp_path: Path) -> None:
    event_id, token = await set_up(service)
    context = await browser.new_context(
        base_url=service.url, viewport={"width": 1280, "height": 900}, locale="sv-SE"
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    shots = DOCS if os.environ.get("REFRESH_DOCS_PICTURES") == "1" else tmp_path

    await page.goto("/drift")
    assert (await page.title()).startswith("Logga in")
    await check(page)
    await page.fill("#token", token)
    await page.click("button:has-text('Logga in')")
    await page.wait_for_url(re.compile(r"/drift$"))
    await check(page)
    await page.screenshot(path=str(shots / "console-overview.png"), full_page=True)

    # Why did Lisa (no permission) and Olle (unsubscribed) get nothing?
    for user_id, rule in (("lisa", "permission"), ("olle", "subscription")):
        await page.goto(f"/drift/utskick?user_id={user_id}&event_id={event_id}")
        why = await page.inner_text("#why")
        assert re.search(rf"{rule}\s+Nej", why), why
    await check(page)
    await page.goto(f"/drift/utskick?event_id={event_id}")
    assert "anna@kommun.example.se" in await page.inner_text("#deliveries")
    await page.screenshot(path=str(shots / "console-deliveries.png"), full_page=True)

    # A failed email (the relay refused it earlier), retried and sent.
    engine = db.create_engine(f"sqlite:///{service.var}/notifier.db")
    async with db.sessionmaker(engine)() as session:
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.user_id) == "anna")
            .values(status=OutboxStatus.FAILED, last_error="550 5.1.1 Mailbox unavailable")
        )
        await session.commit()
    await bury(service.topology, event_body(PAID, occurred_at=utcnow().isoformat()))
    await page.goto("/drift/fel")
    await check(page)
    await page.screenshot(path=str(shots / "console-failures.png"), full_page=True)
    await page.click("button:has-text('Försök igen med alla 1')")
    assert "nytt försök" in await page.inner_text("#done")
    await eventually_mail(service.mailbox, 2, "")  # the same email again
    await page.goto(f"/drift/utskick?user_id=anna&event_id={event_id}")
    assert "Skickat" in await page.inner_text("#deliveries")

    # The dead letter, replayed: the consumer takes it now and Anna gets its email.
    await page.goto("/drift/fel")
    assert "unknown event type" in await page.inner_text("main")
    await page.click("button:has-text('Skicka igen meddelande 1')")
    assert "skickats till händelsekön" in await page.inner_text("#done")
    assert "Inga dead letters." in await page.inner_text("main")
    await eventually_mail(service.mailbox, 3, "")

    # Every template at both levels, at a phone's and a desktop's width.
    await page.goto("/drift/mallar")
    await check(page)
    names = await page.eval_on_selector_all(
        "#templates a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert len(names) == len(TEMPLATES)
    for href in names:
        for level in ("full", "summary"):
            await page.goto(f"{href}?niva={level}")
            frames = page.locator("iframe.email-frame")
            if await frames.count():
                assert await frames.count() == 2
                widths = [await f.get_attribute("width") for f in await frames.all()]
                assert widths == ["375", "800"]
    await page.goto("/drift/mallar/payment.disbursed?niva=summary")
    for frame in (0, 1):  # the phone's and the desktop's
        framed = page.frame_locator("iframe.email-frame").nth(frame).locator("body")
        shown = await framed.inner_text()
        assert "12\u00a0345,50\u00a0kr" in shown and "Ali Hassan" not in shown
    await check(page)
    # Tall enough for the whole page: Chromium paints no frame outside the viewport.
    await page.set_viewport_size({"width": 1280, "height": 2400})
    await page.screenshot(path=str(shots / "console-template.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.fill("#to", "drift@example.se")
    await page.click("button:has-text('Skicka testmejl')")
    assert "Testmejlet ligger i kön" in await page.inner_text("#done")
    [test] = await eventually_mail(service.mailbox, 1, "[TEST]")
    assert test["To"] == "drift@example.se" and test["X-Notifier-Test"] == (
        "payment.disbursed; summary"
    )

    # An announcement for two compensation types, two minutes ahead; another, cancelled.
    at = (utcnow() + timedelta(minutes=2)).astimezone(SWEDISH_TIME).replace(second=0)
    for title in ("Försenade schabloner", "Ett utkast som stoppas"):
        await page.goto("/drift/aktuellt")
        await page.fill("#title", title)
        await page.fill("#body", "Pengarna betalas ut i september.\n\n- juni\n- juli")
        await page.check(f"input[value='{DYGN}']")
        await page.check(f"input[value='{MASSFLYKT}']")
        await page.fill("#send_at", at.strftime("%Y-%m-%dT%H:%M"))
        await page.click("button:has-text('Granska')")
        recipients = await page.inner_text("#recipients")
        assert "2 användare" in recipients and "1 med full behörighet" in recipients
        assert "<li>juni</li>" in await page.inner_html("#body-html")
        await check(page)
        if title.startswith("Försenade"):
            await page.screenshot(path=str(shots / "console-announcement.png"), full_page=True)
        await page.click("button:has-text('Schemalägg')")
        assert "schemalagt" in await page.inner_text("#done")
    await page.click("button:has-text('Stoppa Ett utkast som stoppas')")
    assert "stoppat" in await page.inner_text("#done")
    await check(page)
    listed = await page.inner_text("#announcements")
    assert "Stoppat" in listed and "Schemalagt" in listed

    # The scheduler's round at that minute: exactly Anna and Erik, once.
    sent = await announcements.send_due(
        sessions=db.sessionmaker(engine),
        publish=announcements.publisher(AMQP, service.topology),
        now=at + timedelta(seconds=30),
    )
    assert sent == 1
    got = await eventually_mail(service.mailbox, 2, "Aktuellt i e-tjänsten")
    await asyncio.sleep(2)  # time enough for a second copy, were there one
    got = [m for m in mails(service.mailbox) if "Aktuellt i e-tjänsten" in str(m["Subject"])]
    assert sorted(m["To"] for m in got) == ["anna@kommun.example.se", "erik@kommun.example.se"]
    assert all("stoppas" not in str(m["Subject"]) for m in got)
    await engine.dispose()

    await page.goto("/drift/logg")
    trail = await page.inner_text("#audit")
    for done in ("Nytt försök", "Dead letter skickat igen", "Testutskick", "Meddelande stoppat"):
        assert done in trail
    await check(page)
    await context.close()
