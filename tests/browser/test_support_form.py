"""A person with a keyboard alone gets from /support to a ticket reference, with
JavaScript off, on a phone-sized screen; axe finds nothing on any page of the form."""

import re

import pytest
from playwright.async_api import Page

from tests.browser.helpers import axe_violations, describe, tab_to

pytestmark = pytest.mark.browser

LOGIN_STEP1 = "/support?issue_type=login&organisation=kommun:0180&login_step=1"
SEA = "/support?issue_type=compensation&organisation=kommun:1480&compensation=grupp:asylsokande"


async def test_keyboard_alone_reaches_the_answer_and_a_ticket_reference(page: Page) -> None:
    await page.goto("/support")
    await tab_to(page, "#issue_type")  # the first choice: a login problem
    await page.keyboard.press("Space")
    await tab_to(page, "button[type=submit]")
    await page.keyboard.press("Enter")

    await page.wait_for_url(re.compile(r"step=1"))
    await tab_to(page, "#organisation")
    await page.keyboard.type("Stockholm")  # a closed select jumps to what is typed
    await tab_to(page, "#login_step")
    await page.keyboard.press("Space")
    await tab_to(page, "button[type=submit]")
    await page.keyboard.press("Enter")

    await page.wait_for_url(re.compile(r"step=2"))
    assert (
        await page.title() == "Här får du hjälp – Supportvägledning för Ansök om statlig ersättning"
    )
    assert "etjanstkommuner@migrationsverket.se" in await page.inner_text("main")
    await tab_to(page, "#email")
    await page.keyboard.type("anna.berg@stockholm.se")
    await tab_to(page, "#message")
    await page.keyboard.type("Jag får ett felmeddelande i första inloggningssteget.")
    await tab_to(page, "form[action='/support/arende'] button[type=submit]")
    await page.screenshot(path="/tmp/support-result.png", full_page=True)
    await page.keyboard.press("Enter")

    await page.wait_for_url(re.compile(r"/support/skickad/"))
    reference = await page.inner_text("#reference")
    assert re.fullmatch(r"SUP-[2-9A-Z]{8}", reference)
    await page.screenshot(path="/tmp/support-sent.png", full_page=True)


async def test_errors_are_summarised_focused_and_linked(page: Page) -> None:
    await page.goto("/support?step=1")
    assert (await page.title()).startswith("Fel: ")
    assert await page.evaluate("document.activeElement.className") == "error-summary"
    await page.click(".error-summary a")
    assert await page.evaluate("document.activeElement.id") == "issue_type"


PAGES = [
    "/support",
    "/support?step=1",
    "/support?issue_type=login&step=1",
    "/support?issue_type=login&step=2",
    "/support?issue_type=login&organisation=region:01&login_step=2&step=2",
    "/support?issue_type=login&organisation=region:01&login_step=2&step=3",
    "/support?issue_type=compensation&step=2",
    LOGIN_STEP1,
    SEA,
    "/support?issue_type=login&organisation=region:01&login_step=2&login_method=siths_card_netid",
    "/support?issue_type=permissions&organisation=kommun:0180",
    "/support?issue_type=getting_started",
    "/tillganglighet",
]


@pytest.mark.parametrize("path", PAGES)
async def test_no_wcag_violations_on_the_form(axe_page: Page, path: str) -> None:
    page = axe_page
    await page.goto(path)
    violations = await axe_violations(page)
    assert violations == [], describe(violations)


async def test_no_wcag_violations_on_ticket_errors_and_the_receipt(axe_page: Page) -> None:
    page = axe_page
    await page.goto(SEA)
    await page.screenshot(path="/tmp/support-result-sea.png", full_page=True)
    await page.fill("#email", "inte en adress")
    await page.click("button:has-text('Skicka frågan')")
    assert (await page.title()).startswith("Fel: ")
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
    await page.fill("#email", "anna.berg@stockholm.se")
    await page.fill("#message", "En fråga om dygnsschablonen.")
    await page.click("button:has-text('Skicka frågan')")
    await page.wait_for_url(re.compile(r"/support/skickad/"))
    violations = await axe_violations(page)
    assert violations == [], describe(violations)
