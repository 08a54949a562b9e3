""" "Mina notifieringar" in a real browser: with JavaScript off and the keyboard alone a
user switches an event type off and moves to daily delivery; axe finds nothing on the
page, its confirmation or its error summary."""

import httpx
import pytest
from playwright.async_api import Page

from notifier.settings import Settings
from notifier.web.preferences import PreferenceLinks
from notifier.web.security import signing_key
from tests.browser.conftest import ADMIN_TOKEN
from tests.browser.helpers import axe_violations, describe, tab_to

pytestmark = pytest.mark.browser
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def preferences_path(base_url: str) -> str:
    """A user of the server under test, and the path of their page."""
    user = f"{base_url}/api/v1/users/browser-user"
    body = {
        "email": "b@kommun.example.se",
        "name": "B",
        "organisation": {"kind": "kommun", "code": "0180"},
    }
    httpx.put(user, json=body, headers=ADMIN).raise_for_status()
    grants = {"grants": {"dygnsschablon-ensamkommande": "summary"}}
    httpx.put(f"{user}/permissions", json=grants, headers=ADMIN).raise_for_status()
    subscriptions = {"enabled": True, "event_types": ["payment.disbursed", "application.decided"]}
    httpx.put(f"{user}/subscriptions", json=subscriptions, headers=ADMIN).raise_for_status()
    key = signing_key(Settings(secret_key="browser-secret-key-of-at-least-32-bytes"))
    return PreferenceLinks(key, base_url).url("browser-user").removeprefix(base_url)


async def test_keyboard_alone_switches_one_off_and_moves_to_daily(
    page: Page, preferences_path: str, base_url: str
) -> None:
    await page.goto(preferences_path)
    await tab_to(page, "input[value='payment.disbursed']")
    await page.keyboard.press("Space")
    await tab_to(page, "input[value='immediate']")  # Tab lands on the group's checked radio
    await page.keyboard.press("ArrowDown")
    await tab_to(page, "button[type=submit]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**?sparat=1")
    assert await page.locator(".panel-confirmation").inner_text() != ""
    assert "Dina val är sparade" in await page.content()
    async with httpx.AsyncClient(base_url=base_url, headers=ADMIN) as api:
        stored = (await api.get("/api/v1/users/browser-user/subscriptions")).json()
    assert stored["delivery"] == "daily"
    assert {s["event_type"]: s["enabled"] for s in stored["subscriptions"]} == {
        "application.decided": True,
        "payment.disbursed": False,
    }


async def test_no_wcag_violations_on_the_page_and_its_confirmation(
    axe_page: Page, preferences_path: str
) -> None:
    page = axe_page
    await page.goto(preferences_path)
    assert await page.locator("script").count() == 0
    violations = await axe_violations(page)
    assert not violations, describe(violations)
    await page.locator("button[type=submit]").click()
    await page.wait_for_url("**?sparat=1")
    violations = await axe_violations(page)
    assert not violations, describe(violations)


async def test_no_wcag_violations_on_the_error_summary(
    axe_page: Page, preferences_path: str
) -> None:
    page = axe_page
    await page.goto(preferences_path)
    # A tampered choice: the only way to an error on a page whose radios start checked.
    await page.locator("input[value='daily']").evaluate("input => input.value = 'weekly'")
    await page.locator("input[value='weekly']").check()
    await page.locator("button[type=submit]").click()
    assert "Det finns ett problem" in await page.content()
    violations = await axe_violations(page)
    assert not violations, describe(violations)
