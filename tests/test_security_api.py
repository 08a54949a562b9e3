"""The public JSON API under attack (issue 10): a reused Idempotency-Key (#16)."""

import httpx

from notifier.compose import Services
from notifier.outbox.models import OutboxMessage
from routing.ticketing.models import Ticket
from tests.test_support_api import count
from tests.test_support_api_idempotency import SEA_QUESTION, TICKETS


async def test_the_same_key_with_another_question_is_refused_and_opens_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    key = {"Idempotency-Key": "shared-key"}
    first = await client.post(TICKETS, json=SEA_QUESTION, headers=key)
    other = await client.post(TICKETS, json=SEA_QUESTION | {"message": "Annat"}, headers=key)

    assert (first.status_code, other.status_code) == (201, 422)
    [error] = other.json()["detail"]
    assert error["loc"] == ["header", "Idempotency-Key"]
    assert "redan använts för en annan fråga" in error["msg"]
    assert first.json()["ticket"]["reference"] not in other.text
    assert await count(services, Ticket) == 1
    assert await count(services, OutboxMessage) == 2  # the first ticket's forward and receipt


async def test_a_retry_stamped_at_another_moment_is_the_same_question(
    client: httpx.AsyncClient, services: Services
) -> None:
    key = {"Idempotency-Key": "stamped"}
    first = await client.post(
        TICKETS, json=SEA_QUESTION | {"asked_at": "2026-11-27T08:00:00+01:00"}, headers=key
    )
    again = await client.post(
        TICKETS, json=SEA_QUESTION | {"asked_at": "2026-11-27T08:00:05+01:00"}, headers=key
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["ticket"]["id"] == first.json()["ticket"]["id"]


async def test_a_trailing_slash_never_redirects_to_the_host_header(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for path in ("/api/v1/staff/", "/support/", "/triage/"):
        response = await client.get(path, headers=admin | {"Host": "evil.example"})
        assert "evil.example" not in response.headers.get("location", "")
        assert response.status_code == 404


async def test_the_openapi_schema_names_the_closed_sets(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    compensation = schemas["Inquiry"]["properties"]["compensation_type"]["enum"]
    assert "dygnsschablon-ensamkommande" in compensation and None in compensation
    grants = schemas["PermissionsIn"]["properties"]["grants"]["propertyNames"]["enum"]
    assert grants == [c for c in compensation if c is not None]
    events = schemas["SubscriptionsIn"]["properties"]["event_types"]["items"]["enum"]
    assert "payment.disbursed" in events
