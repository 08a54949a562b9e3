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
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import update
from sqlmodel import col

from domain.sqltypes import utcnow
from domain.swedish import SWEDISH_TIME
from notifier import db
from notifier.console import announcements
from notifier.console.previews import TEMPLATES
from notifier.outbox.models import OutboxMessage, OutboxStatus
from subscriptions import suppressions
from tests.browser.console_service import (
    AMQP,
    DOCS,
    PAID,
    Service,
    bury,
    check,
    eventually_mail,
    mails,
    service,
    set_up,
)
from tests.factories import DYGN, MASSFLYKT, event_body

pytestmark = pytest.mark.browser
__all__ = ["service"]  # the module's fixture


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

    # A suppressed address (as a hard bounce leaves it), counted, listed and lifted.
    async with db.sessionmaker(engine)() as session:
        await suppressions.record_bounce(
            session=session,
            email="gammal@kommun.example.se",
            hard=True,
            status="5.1.1",
            diagnostic="550 5.1.1 [adress]: User unknown",
            outbox_id=None,
            soft_limit=5,
            soft_window=timedelta(days=14),
            now=utcnow(),
        )
        await session.commit()
    await page.goto("/drift")
    assert (await page.inner_text("#suppressed")).startswith("1")
    await page.click("#suppressed")
    assert "gammal@kommun.example.se" in await page.inner_text("#suppressions")
    await check(page)
    await page.click("button:has-text('Häv spärren')")
    assert "Spärren är hävd" in await page.inner_text("#done")
    await check(page)

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
    done = ("Nytt försök", "Dead letter skickat igen", "Spärr av adress hävd", "Testutskick")
    for what in (*done, "Meddelande stoppat"):
        assert what in trail
    await check(page)
    await context.close()
