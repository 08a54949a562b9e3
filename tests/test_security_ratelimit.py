"""Rate limits on new tickets (issue 10, #3 and #4): the JSON API counts with the form,
X-Forwarded-For is believed only from trusted proxies, and Redis shares the count."""

import ipaddress
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request

from notifier.app import create_app
from notifier.compose import Services
from notifier.settings import Settings
from notifier.web.hardening import close_storage
from routing.ticketing.models import Ticket
from routing.web.limits import client_address, networks
from tests.conftest import require_service
from tests.test_support_api import count
from tests.test_support_api_idempotency import SEA_QUESTION, TICKETS
from tests.test_web_form import SEA, submit_ticket


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.support_rate_limit = "3 per minute"
    return settings


def request_from(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 5000), "headers": headers})


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "counted"),
    [
        ("203.0.113.9", ["1.2.3.4"], "", "203.0.113.9"),  # nobody trusted
        ("127.0.0.1", ["1.2.3.4"], "", "127.0.0.1"),  # loopback is no proxy by itself
        ("10.0.0.2", ["1.2.3.4"], "10.0.0.0/8", "1.2.3.4"),
        ("10.0.0.2", ["6.6.6.6, 1.2.3.4"], "10.0.0.0/8", "1.2.3.4"),  # spoofed left entry
        ("10.0.0.2", ["6.6.6.6", "1.2.3.4, 10.0.0.7"], "10.0.0.0/8", "1.2.3.4"),  # two hops
        ("10.0.0.2", ["not-an-ip"], "10.0.0.0/8", "not-an-ip"),
        ("10.0.0.2", [], "10.0.0.0/8", "10.0.0.2"),
    ],
)
def test_the_counted_address_believes_only_trusted_proxies(
    peer: str, forwarded: list[str], trusted: str, counted: str
) -> None:
    assert client_address(request_from(peer, *forwarded), networks(trusted)) == counted


def test_a_bad_trusted_proxy_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        Settings(trusted_proxies="10.0.0.1, proxy.example")


async def test_the_json_api_is_limited_per_client(
    client: httpx.AsyncClient, services: Services
) -> None:
    answers = [(await client.post(TICKETS, json=SEA_QUESTION)).status_code for _ in range(4)]
    assert answers == [201, 201, 201, 429]
    refused = await client.post(TICKETS, json=SEA_QUESTION)
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert "För många" in refused.json()["detail"]
    assert await count(services, Ticket) == 3


async def test_the_form_and_the_api_share_one_budget(client: httpx.AsyncClient) -> None:
    assert (await submit_ticket(client, SEA)).status_code == 303
    assert (await client.post(TICKETS, json=SEA_QUESTION)).status_code == 201
    assert (await submit_ticket(client, SEA)).status_code == 303
    assert (await client.post(TICKETS, json=SEA_QUESTION)).status_code == 429


async def test_a_new_forwarded_address_each_time_does_not_reset_the_limit(
    client: httpx.AsyncClient,
) -> None:
    answers = []
    for n in range(4):
        client.headers["X-Forwarded-For"] = f"198.51.100.{n}"
        answers.append((await submit_ticket(client, SEA)).status_code)
    assert answers == [303, 303, 303, 429]


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return "redis://127.0.0.1:6379/0"


async def apps(services: Services, n: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`n` apps, as `n` processes would run them, behind a proxy at 10.0.0.2."""
    built = [create_app(services) for _ in range(n)]
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("10.0.0.2", 1)),
            base_url="http://testserver",
        )
        for app in built
    ]
    yield clients
    for one, app in zip(clients, built, strict=True):
        await one.aclose()
        await close_storage(app.state.routing.rate_limit.storage)


async def test_processes_sharing_redis_share_one_limit(
    settings: Settings, services: Services, redis_url: str
) -> None:
    settings.rate_limit_storage_url = redis_url
    settings.trusted_proxies = "10.0.0.0/8"
    # A fresh address per run: other test runs share this Redis.
    me = {"X-Forwarded-For": random_address()}
    async for first, second in apps(services, 2):
        answers = [
            (await app.post(TICKETS, json=SEA_QUESTION, headers=me)).status_code
            for app in (first, second, first, second)
        ]
        assert answers == [201, 201, 201, 429]
        someone_else = {"X-Forwarded-For": random_address()}
        assert (
            await second.post(TICKETS, json=SEA_QUESTION, headers=someone_else)
        ).status_code == 201


def random_address() -> str:
    return str(ipaddress.IPv4Address(secrets.randbits(24) | 0x0B000000))  # 11.x.y.z


async def test_readyz_says_ok_for_a_store_that_answers(
    settings: Settings,
    services: Services,
    redis_url: str,
) -> None:
    settings.rate_limit_storage_url = redis_url
    app = create_app(services)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answer = await client.get("/readyz")
    finally:
        await close_storage(app.state.routing.rate_limit.storage)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ready"
    assert answer.json()["checks"]["rate_limit_store"] == "ok"
