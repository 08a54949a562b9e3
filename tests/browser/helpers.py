"""Keyboard driving and the axe check, shared by the browser tests."""

from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
_axe = Axe()


async def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until `selector` has focus, as a keyboard user would."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Every WCAG 2.1 A/AA violation axe-core finds on the page as it is now."""
    results = await _axe.run(page, options=WCAG_21_AA)
    assert results.response["passes"], "axe ran no rule: is axe.min.js there?"
    violations: list[dict[str, Any]] = results.response["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']}: {v['help']} → {[n['target'] for n in v['nodes']]}" for v in violations
    )
