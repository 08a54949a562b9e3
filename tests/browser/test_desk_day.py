"""A working day at the desk, end to end in a real browser on a wide screen: a person
files a ticket and gets the receipt; staff find it by a word of its text and answer it
with a canned answer; the person replies by email (SMTP to `notifier inbound`) with a
screenshot; the reply and screenshot appear on the ticket, open again; the stats show it.
Three real processes share one SQLite file: `notifier api`, `send` and `inbound`."""

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from playwright.async_api import Browser, Page

from routing.ticketing.replies import reply_address
from tests.browser.conftest import ADMIN_TOKEN, _free_port, _require_chromium, _wait_until_up
from tests.browser.helpers import axe_violations, describe, tab_to
from tests.test_inbound import tiny_png

pytestmark = pytest.mark.browser
DOMAIN = "svar.desk.example.se"
SECRET_KEY = "browser-secret-key-of-at-least-32-bytes"
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """(web address, inbound SMTP port, mail directory) of the three processes."""
    _require_chromium()
    var = tmp_path_factory.mktemp("desk-var")
    web, smtp = _free_port(), _free_port()
    env = os.environ | {
        "NOTIFIER_DATABASE_URL": f"sqlite:///{var}/notifier.db",
        "NOTIFIER_MAIL_DIR": str(var / "mail"),
        "NOTIFIER_ADMIN_TOKEN": ADMIN_TOKEN,
        "NOTIFIER_SECRET_KEY": SECRET_KEY,
        "NOTIFIER_REPLY_DOMAIN": DOMAIN,
        "NOTIFIER_SEND_POLL_SECONDS": "0.2",
    }
    log = (var / "server.log").open("wb")
    run = [sys.executable, "-m", "notifier"]
    local = ["--host", "127.0.0.1", "--port"]
    api = subprocess.Popen([*run, "api", *local, str(web)], env=env, stdout=log, stderr=log)
    processes = [api]
    try:
        _wait_until_up(f"http://127.0.0.1:{web}", api)  # migrated before the others start
        for command in (["send"], ["inbound", *local, str(smtp)]):
            processes.append(subprocess.Popen([*run, *command], env=env, stdout=log, stderr=log))
        yield f"http://127.0.0.1:{web}", smtp, var / "mail"
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        log.close()


def find_mail(directory: Path, recipient: str, subject_part: str) -> EmailMessage | None:
    for path in sorted(directory.glob("**/*.eml")) if directory.exists() else []:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == recipient and subject_part in str(message["Subject"]):
            assert isinstance(message, EmailMessage)
            return message
    return None


async def mail_to(directory: Path, recipient: str, subject_part: str) -> EmailMessage:
    """What `notifier send` wrote as .eml (no SMTP configured), once it is there."""
    for _ in range(100):
        if found := await asyncio.to_thread(find_mail, directory, recipient, subject_part):
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no mail to {recipient} about {subject_part}")


async def check(page: Page) -> None:
    violations = await axe_violations(page)
    assert violations == [], f"{page.url}\n{describe(violations)}"


async def send_reply(
    port: int, reference: str, to: str, sender: str = "anna.berg@stockholm.se"
) -> None:
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = to
    reply["Subject"] = f"Re: Svar på din fråga till Migrationsverket [{reference}]"
    reply.set_content(
        "Administratören säger att behörigheten är rätt. Se skärmbilden.\n\n"
        "Den 3 mars 2026 skrev Migrationsverket:\n> Hej Anna!"
    )
    reply.add_attachment(tiny_png(), maintype="image", subtype="png", filename="fel.png")
    await aiosmtplib.send(reply, hostname="127.0.0.1", port=port)


async def test_a_working_day_at_the_desk(
    browser: Browser, desk: tuple[str, int, Path], tmp_path: Path
) -> None:
    base_url, smtp_port, mail = desk
    body = {
        "issue_type": "compensation",
        "organisation": {"kind": "kommun", "code": "0180"},
        "target_group": "asylsokande",
        "name": "Anna Berg",
        "email": "anna.berg@stockholm.se",
        "message": "Vi ser beloppen för Blåklintsgården men inte vilka barn det gäller.",
    }
    async with httpx.AsyncClient(base_url=base_url) as http:
        opened = await http.post("/api/v1/support/tickets", json=body)
        staff = await http.post(
            "/api/v1/staff",
            json={"name": "Karin Ek", "destinations": ["sea"]},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    assert opened.status_code == 201, opened.text
    reference = opened.json()["ticket"]["reference"]
    receipt = await mail_to(mail, "anna.berg@stockholm.se", "Vi har tagit emot")
    reply_to = reply_address(reference, key=SECRET_KEY.encode(), domain=DOMAIN)
    assert receipt["Reply-To"] == reply_to
    assert reference in receipt.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    token = staff.json()["token"]

    context = await browser.new_context(
        base_url=base_url, viewport={"width": 1280, "height": 900}, locale="sv-SE"
    )
    page = await context.new_page()
    await page.goto("/triage")
    await page.fill("#token", token)
    await page.click("button:has-text('Logga in')")
    await page.wait_for_url(re.compile(r"/triage$"))
    await tab_to(page, "#q")  # the search, by keyboard
    await page.keyboard.type("beloppen blåklintsgården")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"q=beloppen"))
    assert "1 ärende matchar" in await page.inner_text("#search-result")
    await check(page)

    await page.click(f"a:has-text('{reference}')")
    await page.click("button:has-text('Ta ärendet')")
    await page.select_option("#svar", "behorighet-ser-inte-personen")
    await page.click("button:has-text('Använd mallen')")
    answer = await page.input_value("#answer_text")
    assert "administratör i kommunen" in answer
    await page.fill("#answer_text", answer + "\n\nHälsningar, Karin")
    await check(page)
    await page.click("button:has-text('Skicka svar')")
    assert await page.inner_text("#ticket-status") == "Besvarad"
    sent = await mail_to(mail, "anna.berg@stockholm.se", "Svar på din fråga")
    assert sent["Reply-To"] == reply_to

    await send_reply(smtp_port, reference, reply_to)
    await page.reload()
    assert await page.inner_text("#ticket-status") == "Pågår"
    conversation = await page.inner_text("#trail")
    assert "Svar från anna.berg@stockholm.se" in conversation
    assert "behörigheten är rätt. Se skärmbilden." in conversation
    assert "skrev Migrationsverket" not in conversation
    image = page.locator("#trail .entry-reply a", has_text="skarmbild.png")
    shown = await page.request.get(await image.get_attribute("href") or "")
    assert shown.headers["content-type"] == "image/png"
    await check(page)
    await page.screenshot(path="/tmp/desk-ticket.png", full_page=True)

    # Someone else writes to the same address: held, marked, taken in only by a person.
    await send_reply(smtp_port, reference, reply_to, sender="erik.lund@example.se")
    await page.reload()
    held = page.locator("#trail .entry-reply.held")
    assert "Väntar på granskning" in await held.inner_text()
    await check(page)
    await held.locator("button:has-text('Godkänn svaret')").click()
    assert "Svaret är godkänt" in await page.inner_text(".notice")
    assert await page.locator("#trail .entry-reply.held").count() == 0

    await page.goto("/triage?mottagare=alla&q=bl%C3%A5klintsg%C3%A5rden")
    stats = await page.inner_text("#stats")
    assert re.search(r"SEA – Statlig ersättning för asylsökande\s+1\s", stats)
    await check(page)
    # The picture in docs/ is refreshed on demand only: a test run leaves the tree as it was.
    shots = DOCS if os.environ.get("REFRESH_DOCS_PICTURES") == "1" else tmp_path
    await page.screenshot(path=str(shots / "desk.png"), full_page=True)
    await page.click("summary")  # the day-by-day counts, by keyboard or pointer
    assert "1\t0" in await page.inner_text("#per-day tbody tr:first-child")
    await check(page)
    await context.close()
