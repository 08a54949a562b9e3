"""Staff work a ticket through the triage desk in a real browser; axe finds nothing on
the desk's pages."""

import re

import httpx
import pytest
from playwright.async_api import Page

from tests.browser.conftest import ADMIN_TOKEN
from tests.browser.helpers import axe_violations, describe

pytestmark = pytest.mark.browser


def new_ticket(base_url: str) -> str:
    body = {
        "issue_type": "compensation",
        "organisation": {"kind": "kommun", "code": "0180"},
        "target_group": "asylsokande",
        "name": "Anna Berg",
        "email": "anna.berg@stockholm.se",
        "message": "När betalas dygnsschablonen ut?",
    }
    answer = httpx.post(f"{base_url}/api/v1/support/tickets", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["ticket"]["reference"])


def staff_token(base_url: str, **body: object) -> str:
    answer = httpx.post(
        f"{base_url}/api/v1/staff",
        json={"name": "Karin Ek", "destinations": ["sea", "sen"]} | body,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


async def check(page: Page) -> None:
    violations = await axe_violations(page)
    assert violations == [], f"{page.url}\n{describe(violations)}"


async def test_staff_work_a_ticket_through_the_desk(axe_page: Page, base_url: str) -> None:
    page = axe_page
    reference = new_ticket(base_url)
    await page.goto("/triage")
    await check(page)
    await page.fill("#token", "stf_wrong")
    await page.click("button:has-text('Logga in')")
    assert (await page.title()).startswith("Fel: ")
    await check(page)

    await page.fill("#token", staff_token(base_url))
    await page.click("button:has-text('Logga in')")
    await page.wait_for_url(re.compile(r"/triage$"))
    await check(page)
    await page.click(f"a:has-text('{reference}')")
    await check(page)

    await page.click("button:has-text('Ta ärendet')")
    assert await page.inner_text("#ticket-status") == "Pågår"
    await page.fill("#note_text", "Ringde upp, väntar på diarienummer.")
    await page.click("button:has-text('Spara anteckning')")
    await page.select_option("#destination", "sen")
    await page.click("button:has-text('Omdirigera')")  # no reason given
    assert (await page.title()).startswith("Fel: ")
    await check(page)
    await page.fill("#reroute_text", "Gäller nyanlända.")
    await page.click("button:has-text('Omdirigera')")
    assert "SEN" in await page.inner_text("#ticket-destination")
    await page.click("button:has-text('Ta ärendet')")
    await page.fill("#answer_text", "Utbetalningen sker sista bankdagen i månaden.")
    await page.click("button:has-text('Skicka svar')")
    await page.click("button:has-text('Stäng ärendet')")
    assert await page.inner_text("#ticket-status") == "Stängd"
    await check(page)
    trail = await page.inner_text("#trail")
    for step in ("Frågan", "Tilldelat", "Intern anteckning", "Omdirigerat", "Gäller nyanlända"):
        assert step in trail
    await page.screenshot(path="/tmp/triage-ticket.png", full_page=True)

    await page.goto("/triage?mottagare=alla&status=closed")
    await check(page)
    assert reference in await page.inner_text("main")
