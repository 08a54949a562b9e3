"""Hostile and careless input: refused clearly, stored literally, never echoed back."""

import httpx
import pytest

from notifier.compose import Services
from routing.ticketing.models import Ticket
from tests.factories import user_body
from tests.test_support_api import count
from tests.test_support_api_idempotency import SEA_QUESTION

PERSONNUMMER = "19121212-1212"


async def test_a_422_never_echoes_what_was_sent(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.put(
        "/api/v1/users/u-1", json=user_body(email=f"{PERSONNUMMER}@"), headers=admin
    )
    assert response.status_code == 422
    assert PERSONNUMMER not in response.text


@pytest.mark.parametrize(
    "user_id", ["'; DROP TABLE users; --", "<img src=x onerror=alert(1)>", "ü-ñ-世界", "a" * 128]
)
async def test_odd_user_ids_are_stored_literally(
    client: httpx.AsyncClient, admin: dict[str, str], user_id: str
) -> None:
    path = f"/api/v1/users/{user_id}"
    assert (await client.put(path, json=user_body(), headers=admin)).status_code == 200
    assert (await client.get(path, headers=admin)).json()["id"] == user_id


async def test_an_overlong_user_id_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.put(f"/api/v1/users/{'a' * 129}", json=user_body(), headers=admin)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("field", "value"),
    [("message", "x" * 5001), ("name", "x" * 201), ("diarienummer", "x" * 201)],
)
async def test_overlong_support_fields_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, field: str, value: str
) -> None:
    response = await client.post("/api/v1/support/tickets", json=SEA_QUESTION | {field: value})
    assert response.status_code == 422
    assert field in {str(part) for error in response.json()["detail"] for part in error["loc"]}
    assert await count(services, Ticket) == 0


async def test_a_body_that_is_not_utf8_json_is_a_clear_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/support/route",
        content=b"\xff\xfe not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"]
