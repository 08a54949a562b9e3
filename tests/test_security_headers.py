"""Security headers on every kind of response (issue 10, #12)."""

import re

import httpx
import pytest

from notifier.settings import Settings
from tests.factories import tiny_image
from tests.test_triage import login, mint
from tests.test_web_form import LOGIN_STEP1, submit_ticket

PAGES = ["/support", "/healthz", "/openapi.json", "/docs", "/unsubscribe/nonsense", "/nowhere"]


@pytest.mark.parametrize("path", PAGES)
async def test_every_response_forbids_sniffing_and_framing(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in response.headers  # http://testserver


async def test_a_refused_request_carries_the_headers_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/support?step=%00")
    assert response.status_code == 400
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.fixture
def https_settings(settings: Settings) -> Settings:
    settings.base_url = "https://stod.statlig-ersattning.example"
    return settings


@pytest.mark.usefixtures("https_settings")
async def test_https_deployments_send_hsts(client: httpx.AsyncClient) -> None:
    hsts = (await client.get("/healthz")).headers["strict-transport-security"]
    assert hsts.startswith("max-age=31536000")


async def test_docs_load_nothing_from_a_cdn(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.text and "http" not in docs.text.replace('"http', "")
    # Every script is a file of this origin: no inline script, none from elsewhere.
    scripts = re.findall(r"<script([^>]*)>", docs.text)
    assert scripts and all(re.fullmatch(r' src="/docs/[\w./-]+"', s) for s in scripts)
    assert "script-src 'self';" in docs.headers["content-security-policy"]
    assert "unsafe" not in docs.headers["content-security-policy"].split("script-src")[1][:20]
    for script in re.findall(r'src="(/docs/[^"]+)"', docs.text):
        served = await client.get(script)
        assert served.status_code == 200 and "javascript" in served.headers["content-type"]
    assert "SwaggerUIBundle" in (await client.get("/docs/start.js")).text
    assert (await client.get("/redoc")).status_code == 404


async def test_attachments_are_downloads_never_pages(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    files = {"screenshot": ("a.png", tiny_image("PNG"), "image/png")}
    await submit_ticket(client, LOGIN_STEP1, files=files)
    _, staff = await mint(client, admin)
    [ticket] = (await client.get("/api/v1/triage/tickets?destination=alla", headers=staff)).json()[
        "tickets"
    ]
    one = (await client.get(f"/api/v1/triage/tickets/{ticket['id']}", headers=staff)).json()
    [file] = one["attachments"]
    api = await client.get(
        f"/api/v1/triage/tickets/{ticket['id']}/attachments/{file['id']}", headers=staff
    )
    await login(client, staff)
    page = await client.get(f"/triage/arenden/{ticket['id']}/bilagor/{file['id']}")
    for response in (api, page):
        assert response.status_code == 200
        assert response.headers["content-disposition"] == "attachment"
        assert response.headers["x-content-type-options"] == "nosniff"
