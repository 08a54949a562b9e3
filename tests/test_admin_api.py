"""The admin API (docs/contracts.md §3) on SQLite and PostgreSQL."""

from typing import Any

import httpx
import pytest

from tests.factories import permissions_body, subscriptions_body, user_body

USER = "/api/v1/users/u-1"


async def test_user_permissions_and_subscriptions_round_trip(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    put = await client.put(USER, json=user_body(), headers=admin)
    assert put.status_code == 200
    assert (await client.get(USER, headers=admin)).json() == {
        "id": "u-1",
        **user_body(),
        "email_status": {
            "state": "ok", "since": None, "reason": None, "status": None, "diagnostic": None
        },
    }  # fmt: skip

    grants = permissions_body(
        **{"dygnsschablon-ensamkommande": "full", "schablon-anvisade-barn": "summary"}
    )
    assert (await client.put(f"{USER}/permissions", json=grants, headers=admin)).json() == grants
    assert (await client.get(f"{USER}/permissions", headers=admin)).json() == grants

    subs = subscriptions_body("payment.disbursed", "application.decided")
    await client.put(f"{USER}/subscriptions", json=subs, headers=admin)
    stored = (await client.get(f"{USER}/subscriptions", headers=admin)).json()
    assert stored["enabled"] is True
    assert sorted(stored["event_types"]) == sorted(subs["event_types"])


async def test_put_is_idempotent_and_replaces(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for _ in range(2):
        assert (await client.put(USER, json=user_body(), headers=admin)).status_code == 200
    await client.put(
        f"{USER}/permissions",
        json=permissions_body(**{"schablon-anvisade-barn": "full"}),
        headers=admin,
    )
    await client.put(
        f"{USER}/permissions",
        json=permissions_body(**{"dygnsschablon-ensamkommande": "summary"}),
        headers=admin,
    )
    got = (await client.get(f"{USER}/permissions", headers=admin)).json()
    assert got == {"grants": {"dygnsschablon-ensamkommande": "summary"}}

    moved = user_body(organisation={"kind": "region", "code": "14"}, email="a@vgregion.se")
    await client.put(USER, json=moved, headers=admin)
    assert (await client.get(USER, headers=admin)).json()["organisation"] == {
        "kind": "region",
        "code": "14",
    }


async def test_delete_user_removes_everything(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put(USER, json=user_body(), headers=admin)
    await client.put(f"{USER}/permissions", json=permissions_body(), headers=admin)
    await client.put(f"{USER}/subscriptions", json=subscriptions_body(), headers=admin)
    assert (await client.delete(USER, headers=admin)).status_code == 204
    for path in (USER, f"{USER}/permissions", f"{USER}/subscriptions"):
        assert (await client.get(path, headers=admin)).status_code == 404
    assert (await client.delete(USER, headers=admin)).status_code == 404


@pytest.mark.parametrize("path", [USER, f"{USER}/permissions", f"{USER}/subscriptions"])
async def test_unknown_user_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], path: str
) -> None:
    assert (await client.get(path, headers=admin)).status_code == 404


async def test_permissions_for_unknown_user_is_404_and_stores_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert (
        await client.put(f"{USER}/permissions", json=permissions_body(), headers=admin)
    ).status_code == 404


BAD_USERS: list[tuple[str, dict[str, Any], str]] = [
    ("bad email", user_body(email="inte-en-adress"), "email"),
    ("empty name", user_body(name="  "), "name"),
    ("unknown kommun", user_body(organisation={"kind": "kommun", "code": "0999"}), "organisation"),
    (
        "region code as kommun",
        user_body(organisation={"kind": "kommun", "code": "01"}),
        "organisation",
    ),
    ("unknown region", user_body(organisation={"kind": "region", "code": "02"}), "organisation"),
    ("unknown kind", user_body(organisation={"kind": "landsting", "code": "01"}), "organisation"),
    (
        "code without leading zero",
        user_body(organisation={"kind": "kommun", "code": "180"}),
        "organisation",
    ),
    ("missing organisation", {"email": "a@b.se", "name": "A"}, "organisation"),
    ("unknown field", user_body(personnummer="19121212-1212"), "personnummer"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_USERS, ids=[c[0] for c in BAD_USERS])
async def test_bad_user_is_422_per_field_and_nothing_stored(
    client: httpx.AsyncClient, admin: dict[str, str], case: str, body: dict[str, Any], field: str
) -> None:
    response = await client.put(USER, json=body, headers=admin)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"]), response.json()
    assert (await client.get(USER, headers=admin)).status_code == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("permissions", {"grants": {"okand-ersattning": "full"}}),
        ("permissions", {"grants": {"dygnsschablon-ensamkommande": "admin"}}),
        ("subscriptions", {"enabled": True, "event_types": ["application.exploded"]}),
        ("subscriptions", {"event_types": ["payment.disbursed"]}),
    ],
    ids=["unknown compensation type", "unknown level", "unknown event type", "missing enabled"],
)
async def test_bad_grants_and_subscriptions_are_422_and_keep_what_was_stored(
    client: httpx.AsyncClient, admin: dict[str, str], path: str, body: dict[str, Any]
) -> None:
    await client.put(USER, json=user_body(), headers=admin)
    before = (await client.get(f"{USER}/{path}", headers=admin)).json()
    response = await client.put(f"{USER}/{path}", json=body, headers=admin)
    assert response.status_code == 422
    assert all("msg" in error and "loc" in error for error in response.json()["detail"])
    assert (await client.get(f"{USER}/{path}", headers=admin)).json() == before


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dGVzdA=="}],
    ids=["missing token", "wrong token", "wrong scheme"],
)
async def test_admin_api_needs_the_token(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.put(USER, json=user_body(), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_admin_api_is_closed_without_a_configured_token(
    services: Any, admin: dict[str, str]
) -> None:
    from notifier.app import create_app

    services.settings = services.settings.model_copy(update={"admin_token": None})
    app = create_app(services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get(USER, headers=admin)).status_code == 401
        assert (await c.get(USER, headers={"Authorization": "Bearer "})).status_code == 401


async def test_delivery_is_stored_and_a_put_without_it_means_immediate(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put(USER, json=user_body(), headers=admin)
    daily = subscriptions_body("payment.disbursed") | {"delivery": "daily"}
    assert (await client.put(f"{USER}/subscriptions", json=daily, headers=admin)).json()[
        "delivery"
    ] == "daily"
    assert (await client.get(f"{USER}/subscriptions", headers=admin)).json()["delivery"] == "daily"
    await client.put(f"{USER}/subscriptions", json=subscriptions_body(), headers=admin)
    stored = (await client.get(f"{USER}/subscriptions", headers=admin)).json()
    assert stored["delivery"] == "immediate"
    weekly = subscriptions_body() | {"delivery": "weekly"}
    assert (
        await client.put(f"{USER}/subscriptions", json=weekly, headers=admin)
    ).status_code == 422
