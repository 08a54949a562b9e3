"""Real-browser tests: the service as a real process on loopback, driven by Debian's
headless Chromium through Playwright. No browser is ever downloaded: without
/usr/bin/chromium these tests skip, and under CI=true they fail."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ADMIN_TOKEN = "browser-admin-token"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`notifier api` on a free loopback port, on its own SQLite file."""
    _require_chromium()
    var = tmp_path_factory.mktemp("browser-var")
    port = _free_port()
    env = os.environ | {
        "NOTIFIER_DATABASE_URL": f"sqlite:///{var}/notifier.db",
        "NOTIFIER_MAIL_DIR": str(var / "mail"),
        "NOTIFIER_ADMIN_TOKEN": ADMIN_TOKEN,
        "NOTIFIER_SECRET_KEY": "browser-secret-key-of-at-least-32-bytes",
        "NOTIFIER_SUPPORT_RATE_LIMIT": "1000 per minute",
    }
    log = (var / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "notifier", "api", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not answer within 30 s")


@pytest.fixture(scope="session")
async def browser(base_url: str) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        await browser.close()


async def _page(browser: object, base_url: str, *, javascript: bool) -> AsyncIterator[object]:
    from playwright.async_api import Browser

    assert isinstance(browser, Browser)
    context = await browser.new_context(
        base_url=base_url,
        java_script_enabled=javascript,
        viewport={"width": 390, "height": 844},
        locale="sv-SE",
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
async def page(browser: object, base_url: str) -> AsyncIterator[object]:
    """A phone-sized page with JavaScript off, as the pages must work without it."""
    async for one in _page(browser, base_url, javascript=False):
        yield one


@pytest.fixture
async def axe_page(browser: object, base_url: str) -> AsyncIterator[object]:
    """JavaScript on: axe-core runs as a script in the page (our pages have none)."""
    async for one in _page(browser, base_url, javascript=True):
        yield one
