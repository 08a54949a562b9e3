"""A client that retries POST /api/v1/support/tickets with the same Idempotency-Key gets
the ticket it already opened, never a second one."""

import asyncio

import httpx

from notifier.compose import Services
from notifier.outbox.models import OutboxMessage
from routing.ticketing.models import Ticket
from tests.test_support_api import count, inquiry

TICKETS = "/api/v1/support/tickets"
SEA_QUESTION = inquiry(issue_type="compensation", compensation_type="dygnsschablon-ensamkommande")


async def test_a_retry_with_the_same_key_returns_the_first_ticket(
    client: httpx.AsyncClient, services: Services
) -> None:
    key = {"Idempotency-Key": "retry-7f3a"}
    first = await client.post(TICKETS, json=SEA_QUESTION, headers=key)
    again = await client.post(TICKETS, json=SEA_QUESTION, headers=key)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert await count(services, Ticket) == 1
    assert await count(services, OutboxMessage) == 2  # forwarded once, one receipt


async def test_without_a_key_each_post_is_a_new_ticket(
    client: httpx.AsyncClient, services: Services
) -> None:
    for _ in range(2):
        assert (await client.post(TICKETS, json=SEA_QUESTION)).status_code == 201
    assert await count(services, Ticket) == 2


async def test_two_retries_at_the_same_moment_open_one_ticket(
    client: httpx.AsyncClient, services: Services
) -> None:
    key = {"Idempotency-Key": "racing"}
    answers = await asyncio.gather(
        *(client.post(TICKETS, json=SEA_QUESTION, headers=key) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 201]
    assert len({a.json()["ticket"]["id"] for a in answers}) == 1
    assert await count(services, Ticket) == 1


async def test_an_overlong_key_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(TICKETS, json=SEA_QUESTION, headers={"Idempotency-Key": "k" * 201})
    assert response.status_code == 422
