"""Unsubscribe links (issue 10, #10): opaque, valid for a year, redacted in the log; and
the triage desk's sessions (#11): server-side, so logging out ends them."""

import base64
import io
import logging
import time
from datetime import timedelta

import httpx
import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.logs import JsonFormatter, RedactPersonalData
from notifier.settings import Settings
from notifier.web.preferences import PreferenceLinks
from notifier.web.security import signing_key
from notifier.web.unsubscribe import SALT, Unsubscribe
from tests.test_triage import login, mint
from tests.test_unsubscribe import a_user, subscribed
from tests.test_web_form import csrf_of

KEY = b"k" * 32
T0 = 1_800_000_000.0
USER = "user-4711-anna"


def links(at: float) -> Unsubscribe:
    return Unsubscribe(KEY, "https://example.se", now=lambda: at)


def test_a_token_names_neither_the_user_nor_the_event_type() -> None:
    token = links(T0).token(USER, "payment.disbursed")
    padded = token + "=" * (-len(token) % 4)
    decoded = base64.urlsafe_b64decode(padded)
    for secret in (USER, "payment.disbursed"):
        assert secret not in token and secret.encode() not in decoded
    assert links(T0).read(token) == (USER, "payment.disbursed")


@pytest.mark.parametrize(
    ("age", "valid"), [(timedelta(days=300), True), (timedelta(days=367), False)]
)
def test_a_token_is_valid_for_a_year(age: timedelta, valid: bool) -> None:
    token = links(T0).token(USER, "payment.disbursed")
    assert (links(T0 + age.total_seconds()).read(token) is not None) is valid


def test_an_email_link_is_made_once_an_hour_per_user_and_still_opens() -> None:
    """A payment run mails the same users many times within minutes; their links are made
    once an hour (two encryptions an email were a tenth of the sender's time)."""
    clock = [T0]
    unsubscribe = Unsubscribe(KEY, "https://example.se", now=lambda: clock[0])
    preferences = PreferenceLinks(KEY, "https://example.se", now=lambda: clock[0])
    first = unsubscribe.url(USER, "payment.disbursed"), preferences.url(USER)
    clock[0] += 60
    assert (unsubscribe.url(USER, "payment.disbursed"), preferences.url(USER)) == first
    assert unsubscribe.url(USER, "decision.made") != first[0]
    assert preferences.url("user-4712-bo") != first[1]
    clock[0] += 3600
    later = unsubscribe.url(USER, "payment.disbursed"), preferences.url(USER)
    assert later[0] != first[0] and later[1] != first[1]
    token = first[0].rsplit("/", 1)[1]
    assert unsubscribe.read(token) == (USER, "payment.disbursed")
    assert preferences.read(first[1].rsplit("/", 1)[1], now=int(clock[0])) == USER


def test_a_tampered_token_or_another_key_reads_as_nothing() -> None:
    token = links(T0).token(USER, "payment.disbursed")
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    assert links(T0).read(flipped) is None
    assert Unsubscribe(b"o" * 32, "https://example.se", now=lambda: T0).read(token) is None


def test_a_legacy_token_without_a_time_is_refused_as_expired() -> None:
    """The older signed tokens carry no time: honoured, they would never expire."""
    legacy = URLSafeSerializer(KEY, salt=SALT).dumps([USER, "payment.disbursed"])
    assert links(T0).read(legacy) is None
    assert links(T0).expired(legacy)
    assert not links(T0).expired("inte-en-token")


async def test_a_legacy_or_aged_link_shows_a_swedish_page_and_changes_nothing(
    client: httpx.AsyncClient, settings: Settings, engine: AsyncEngine
) -> None:
    await a_user(engine)
    key = signing_key(settings)
    legacy = URLSafeSerializer(key, salt=SALT).dumps(["anna", "payment.disbursed"])
    aged = Unsubscribe(key, settings.base_url, now=lambda: time.time() - 400 * 86400)
    for token in (legacy, aged.token("anna", "payment.disbursed")):
        for method in ("GET", "POST"):
            response = await client.request(method, f"/unsubscribe/{token}")
            assert response.status_code == 410
            assert "Länken har gått ut" in response.text
            assert "Mina notifieringar" in response.text
    assert await subscribed(engine, "anna") == {
        "payment.disbursed": True,
        "application.submitted": True,
    }


def test_the_access_log_never_carries_a_link_token() -> None:
    token = links(T0).token(USER, "payment.disbursed")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactPersonalData())
    access = logging.getLogger("test.uvicorn.access")
    access.addHandler(handler)
    try:
        # uvicorn's access log line, with its own arguments.
        access.error(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "POST", f"/unsubscribe/{token}", "1.1", 200
        )
        access.error(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/support/skickad/abc.def", "1.1", 200
        )
    finally:
        access.removeHandler(handler)
    assert token not in stream.getvalue() and "abc.def" not in stream.getvalue()
    assert "/unsubscribe/[token]" in stream.getvalue()


async def test_logging_out_ends_the_session_even_for_a_copied_cookie(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    _, staff = await mint(client, admin)
    assert (await login(client, staff)).status_code == 303
    copied = client.cookies.get("staff_session", path="/")
    assert copied and (await client.get("/triage")).status_code == 200
    page = await client.get("/triage")
    assert (
        await client.post("/triage/logga-ut", data={"csrf_token": csrf_of(page)})
    ).status_code == 303
    client.cookies.set("staff_session", copied, path="/")
    assert (await client.get("/triage")).status_code == 401


async def test_revoking_the_account_ends_its_sessions(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    account_id, staff = await mint(client, admin)
    await login(client, staff)
    assert (await client.get("/triage")).status_code == 200
    assert (await client.delete(f"/api/v1/staff/{account_id}", headers=admin)).status_code == 204
    assert (await client.get("/triage")).status_code == 401


async def test_the_cookie_names_no_account(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    account_id, staff = await mint(client, admin)
    await login(client, staff)
    cookie = client.cookies.get("staff_session", path="/") or ""
    assert account_id not in cookie and account_id.encode() not in _b64(cookie.split(".")[0])


def _b64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return b""
