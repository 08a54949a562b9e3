""" "Mina notifieringar": opaque year-long links, the form (CSRF, errors, confirmation),
and the link in every notification email, filled per recipient."""

import re
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.compensation import EVENT_TYPES
from notifier import db
from notifier.channels.files import FileChannel
from notifier.compose import Services, kinds
from notifier.settings import Settings
from notifier.web.preferences import PreferenceLinks, meaningful
from notifier.web.security import signing_key
from subscriptions import store
from tests.pipeline_helpers import DYGN, MASSFLYKT, add_user

YEAR = 365 * 24 * 3600


def path_of(settings: Settings, user_id: str) -> str:
    url = PreferenceLinks(signing_key(settings), settings.base_url).url(user_id)
    return url.removeprefix(settings.base_url)


async def a_user(engine: AsyncEngine) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(
            session,
            "anna-4711",
            grants={DYGN: "full"},
            subscribed=("payment.disbursed", "application.submitted"),
        )
        await session.commit()


async def preferences(engine: AsyncEngine) -> tuple[set[str], str]:
    async with db.sessionmaker(engine)() as session:
        state = await store.get_subscriptions(session=session, user_id="anna-4711")
    return {s.event_type for s in state.subscriptions if s.enabled}, state.delivery


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_the_link_names_no_user_and_only_its_own_key_opens_it() -> None:
    links = PreferenceLinks(b"key", "https://example.se/")
    token = links.token("anna-4711")
    assert "anna" not in token and "4711" not in token
    assert links.read(token) == "anna-4711"
    assert links.token("anna-4711") != token  # a fresh nonce: links cannot be compared
    assert PreferenceLinks(b"other", "https://example.se").read(token) is None
    assert links.read(token[:-4] + "AAAA") is None
    assert links.read("nonsense") is None
    assert links.url("u").startswith("https://example.se/mina-notifieringar/")


def test_the_link_is_valid_for_a_year_and_not_a_day_more() -> None:
    links = PreferenceLinks(b"key", "https://example.se")
    made = int(time.time()) - 1000
    token = links.token("anna", at=made)
    assert links.read(token, now=made + YEAR - 60) == "anna"
    assert links.read(token, now=made + YEAR + 86400) is None


@pytest.mark.parametrize(
    ("event_type", "grants", "expected"),
    [
        ("service.announcement", {}, True),
        ("payment.disbursed", {}, False),
        ("payment.disbursed", {DYGN: "summary"}, True),
        ("payment.disbursed", {MASSFLYKT: "full"}, False),  # paid without application
        ("payment.automatic", {MASSFLYKT: "summary"}, True),
        ("payment.automatic", {DYGN: "full"}, False),
        ("application.decided", {DYGN: "full"}, True),
    ],
)
def test_permissions_say_which_event_types_can_reach_the_user(
    event_type: str, grants: dict[str, str], expected: bool
) -> None:
    assert meaningful(event_type, grants) is expected


async def test_the_page_shows_every_event_type_in_swedish(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    await a_user(engine)
    page = await client.get(path_of(settings, "anna-4711"))
    assert page.status_code == 200
    assert "Mina notifieringar" in page.text
    for label in EVENT_TYPES.values():
        assert label in page.text
    assert page.text.count(" checked>") == 3  # two event types and immediate delivery
    assert "Din behörighet ger inga sådana mejl just nu." in page.text  # payment.automatic
    assert "anna-4711" not in page.text
    assert "<script" not in page.text


async def test_switching_one_off_and_moving_to_daily_is_saved_and_confirmed(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    await a_user(engine)
    path = path_of(settings, "anna-4711")
    token = csrf_of((await client.get(path)).text)
    saved = await client.post(
        path,
        data={"csrf_token": token, "event_types": ["payment.disbursed"], "delivery": "daily"},
    )
    assert saved.status_code == 303
    assert await preferences(engine) == ({"payment.disbursed"}, "daily")
    shown = await client.get(saved.headers["location"])
    assert "Dina val är sparade" in shown.text
    assert 'value="daily" checked' in shown.text


async def test_a_post_without_the_csrf_token_changes_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    await a_user(engine)
    path = path_of(settings, "anna-4711")
    await client.get(path)  # the cookie, but no token in the form
    refused = await client.post(path, data={"event_types": [], "delivery": "daily"})
    assert refused.status_code == 403
    assert await preferences(engine) == (
        {"payment.disbursed", "application.submitted"},
        "immediate",
    )


async def test_an_invalid_choice_shows_the_error_summary_and_keeps_the_stored_one(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    await a_user(engine)
    path = path_of(settings, "anna-4711")
    token = csrf_of((await client.get(path)).text)
    page = await client.post(path, data={"csrf_token": token, "delivery": "weekly"})
    assert page.status_code == 400
    assert "Det finns ett problem" in page.text
    assert 'href="#delivery"' in page.text
    assert page.text.startswith("<!doctype html>")
    assert "<title>Fel: Mina notifieringar" in page.text
    assert (await preferences(engine))[1] == "immediate"


async def test_one_click_from_a_digest_turns_every_notification_off(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    await a_user(engine)
    done = await client.post(path_of(settings, "anna-4711"), data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert await preferences(engine) == (set(), "immediate")


async def test_a_bad_or_foreign_link_and_a_removed_user_answer_404(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    await a_user(engine)
    forged = path_of(Settings(secret_key="another-key-of-at-least-thirty-two-bytes"), "anna-4711")
    for bad in (forged, "/mina-notifieringar/nonsense", path_of(settings, "gone")):
        assert (await client.get(bad)).status_code == 404
        assert (await client.post(bad, data={"delivery": "daily"})).status_code == 404
    assert (await preferences(engine))[1] == "immediate"


async def test_every_notification_links_to_the_recipients_own_page(
    services: Services, engine: AsyncEngine, settings: Settings, tmp_path: Path
) -> None:
    from tests.test_sender import eml_files, queue_event, read_eml, sender

    await a_user(engine)
    await queue_event(engine)
    run = sender(engine, FileChannel(tmp_path, "no-reply@example.se"), kinds=kinds(services))
    assert await run.send_batch() == 1
    email = read_eml(eml_files(tmp_path)[0])
    links = PreferenceLinks(signing_key(settings), settings.base_url)
    for part in ("plain", "html"):
        body = email.get_body((part,))
        assert body is not None
        found = re.search(r"/mina-notifieringar/([\w=-]+)", body.get_content())
        assert found and links.read(found.group(1)) == "anna-4711"
        assert "placeholder.invalid" not in body.get_content()
