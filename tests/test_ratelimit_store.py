"""A rate-limit store (Redis) that does not answer (issue 22, #11): the limits fail open to
this process's own count, within the store's timeout, say so once in the log, and
/readyz names the store as degraded."""

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.settings import Settings
from notifier.web.hardening import close_storage, rate_limit_storage
from routing.web import ratelimit
from routing.web.ratelimit import RateLimit
from tests.test_security_ratelimit import random_address, redis_url  # noqa: F401
from tests.test_support_api_idempotency import SEA_QUESTION, TICKETS
from tests.test_triage import login, mint
from tests.test_web_form import SEA, submit_ticket

# Well under the 5 s a store that never answers took before; the store's timeout is 0.5 s.
PROMPT = 2.0


@pytest.fixture
def engine(postgresql_only: AsyncEngine) -> AsyncEngine:
    return postgresql_only  # the store is the subject here, not the database


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: a connection is refused at once


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A loopback server that accepts connections and never answers, as a hung Redis."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read()  # until the client gives up

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


@pytest.fixture(params=["refused", "silent"])
def store_url(request: pytest.FixtureRequest) -> str:
    port = closed_port() if request.param == "refused" else request.getfixturevalue("silent_server")
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def settings(settings: Settings, store_url: str) -> Settings:
    settings.support_rate_limit = "3 per minute"
    settings.rate_limit_storage_url = store_url
    return settings


async def timed(call: Awaitable[httpx.Response]) -> tuple[int, float]:
    started = time.monotonic()
    response = await call
    return response.status_code, time.monotonic() - started


async def test_new_tickets_fail_open_to_this_process_count(client: httpx.AsyncClient) -> None:
    answers = [await timed(client.post(TICKETS, json=SEA_QUESTION)) for _ in range(4)]
    assert [status for status, _ in answers] == [201, 201, 201, 429]
    assert all(seconds < PROMPT for _, seconds in answers), answers
    status, seconds = await timed(submit_ticket(client, SEA))
    assert (status, seconds < PROMPT) == (429, True)  # the form shares the budget


async def test_the_form_and_the_desk_login_still_answer(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    status, seconds = await timed(submit_ticket(client, SEA))
    assert (status, seconds < PROMPT) == (303, True)
    _, staff = await mint(client, admin)
    status, seconds = await timed(login(client, staff))
    assert (status, seconds < PROMPT) == (303, True)


async def test_readyz_names_the_store_degraded_and_stays_ready(client: httpx.AsyncClient) -> None:
    status, seconds = await timed(client.get("/readyz"))
    answer = (await client.get("/readyz")).json()
    assert (status, seconds < PROMPT) == (200, True)
    assert answer["status"] == "degraded"
    assert answer["checks"]["database"] == "ok"
    assert answer["checks"]["rate_limit_store"].startswith("degraded: counted per process")


async def test_the_outage_is_logged_once(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        await client.post(TICKETS, json=SEA_QUESTION)
    told = [r for r in caplog.records if "rate-limit store" in r.getMessage()]
    assert len(told) == 1 and told[0].levelno == logging.WARNING


class Switch:
    """A loopback port in front of the real Redis: while down it drops every connection
    at once; while up it forwards them."""

    def __init__(self) -> None:
        self.up = False
        self.writers: list[asyncio.StreamWriter] = []

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        if not self.up:
            writer.close()
            return
        redis_reader, redis_writer = await asyncio.open_connection("127.0.0.1", 6379)
        self.writers.append(redis_writer)
        await asyncio.gather(_pipe(reader, redis_writer), _pipe(redis_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def test_the_shared_count_resumes_once_the_store_answers(
    redis_url: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO, logger=ratelimit.__name__)
    monkeypatch.setattr(ratelimit, "RETRY_STORE_AFTER", 0.0)
    switch = Switch()
    server = await asyncio.start_server(switch.accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    through_switch = RateLimit("2 per minute", rate_limit_storage(f"redis://127.0.0.1:{port}/0"))
    direct = RateLimit("2 per minute", rate_limit_storage(redis_url))
    client, scope = random_address(), "resume-test"
    try:
        assert await through_switch.hit(scope, client) is None  # counted here alone
        assert await through_switch.store_state() != "ok"
        switch.up = True
        assert await through_switch.hit(scope, client) is None  # counted in Redis again
        assert await through_switch.store_state() == "ok"
        assert await direct.hit(scope, client) is None
        assert await direct.hit(scope, client) is not None  # one budget across both
    finally:
        for limit in (through_switch, direct):
            await close_storage(limit.storage)
        server.close()
        for writer in switch.writers:
            writer.close()
        await server.wait_closed()
    told = [r.getMessage() for r in caplog.records if "rate-limit store" in r.getMessage()]
    assert len(told) == 2 and "answers again" in told[1]
