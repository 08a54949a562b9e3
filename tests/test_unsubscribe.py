"""RFC 8058 one-click unsubscribe: POST turns the subscription off, GET only asks."""

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier import db
from notifier.settings import Settings
from notifier.web.security import signing_key
from notifier.web.unsubscribe import Unsubscribe
from subscriptions import store
from tests.pipeline_helpers import DYGN, add_user


async def subscribed(engine: AsyncEngine, user_id: str) -> dict[str, bool]:
    async with db.sessionmaker(engine)() as session:
        state = await store.get_subscriptions(session=session, user_id=user_id)
    return {s.event_type: s.enabled for s in state.subscriptions}


def path_of(settings: Settings, user_id: str, event_type: str) -> str:
    url = Unsubscribe(signing_key(settings), settings.base_url).url(user_id, event_type)
    return url.removeprefix(settings.base_url)


async def a_user(engine: AsyncEngine) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(
            session,
            "anna",
            grants={DYGN: "full"},
            subscribed=("payment.disbursed", "application.submitted"),
        )
        await session.commit()


async def test_the_one_click_post_turns_that_subscription_off(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    await a_user(engine)
    response = await client.post(
        path_of(settings, "anna", "payment.disbursed"),
        data={"List-Unsubscribe": "One-Click"},
    )
    assert response.status_code == 200
    assert "Notifieringen är avslutad" in response.text
    assert "Utbetalning gjord" in response.text
    assert await subscribed(engine, "anna") == {
        "payment.disbursed": False,
        "application.submitted": True,
    }


async def test_a_get_only_asks_so_link_scanners_unsubscribe_nobody(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    await a_user(engine)
    response = await client.get(path_of(settings, "anna", "payment.disbursed"))
    assert response.status_code == 200
    assert '<form method="post">' in response.text
    assert "Ja, avsluta notifieringen" in response.text
    assert await subscribed(engine, "anna") == {
        "payment.disbursed": True,
        "application.submitted": True,
    }


async def test_a_tampered_token_changes_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    await a_user(engine)
    path = path_of(settings, "anna", "payment.disbursed")
    forged = path_of(
        Settings(secret_key="another-key-also-at-least-32-bytes"), "anna", "payment.disbursed"
    )
    for bad in (path[:-3] + "abc", forged, "/unsubscribe/nonsense"):
        assert (await client.post(bad)).status_code == 404
        assert (await client.get(bad)).status_code == 404
    assert all((await subscribed(engine, "anna")).values())


async def test_unsubscribing_a_deleted_user_answers_the_same(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post(path_of(settings, "gone", "payment.disbursed"))
    assert response.status_code == 200


def test_tokens_are_bound_to_user_and_event_type() -> None:
    links = Unsubscribe(b"key", "https://example.se/")
    token = links.token("anna", "payment.disbursed")
    assert links.read(token) == ("anna", "payment.disbursed")
    url = links.url("anna", "payment.disbursed")  # each token is new (encrypted)
    assert url.startswith("https://example.se/unsubscribe/")
    assert links.read(url.rsplit("/", 1)[1]) == ("anna", "payment.disbursed")
    assert Unsubscribe(b"other", "https://example.se").read(token) is None


async def test_head_answers_like_get_and_unsubscribes_nobody(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    await a_user(engine)
    path = path_of(settings, "anna", "payment.disbursed")
    head = await client.head(path)
    assert head.status_code == 200  # link checkers and mailbox providers probe with HEAD
    assert head.headers["content-type"] == (await client.get(path)).headers["content-type"]
    # (Base64 ignores what follows a token's padding, so a forged token is made anew.)
    assert (await client.head(path.rsplit("/", 1)[0] + "/not-a-token")).status_code == 404
    assert await subscribed(engine, "anna") == {
        "payment.disbursed": True,
        "application.submitted": True,
    }


async def test_after_one_unsubscribe_the_api_shows_each_type_s_state_at_a_glance(
    client: httpx.AsyncClient, engine: AsyncEngine, settings: Settings, admin: dict[str, str]
) -> None:
    await a_user(engine)
    await client.post(path_of(settings, "anna", "payment.disbursed"))
    stored = (await client.get("/api/v1/users/anna/subscriptions", headers=admin)).json()
    assert stored["state"] == {"application.submitted": "on", "payment.disbursed": "off"}
    # The contract's fields are kept as they were.
    assert stored["enabled"] is False
    assert stored["event_types"] == ["application.submitted", "payment.disbursed"]
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert (
        "medan de andra fortfarande mejlas"
        in schema["SubscriptionsOut"]["properties"]["enabled"]["description"]
    )
