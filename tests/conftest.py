"""Shared fixtures: every database test runs on SQLite and on the real PostgreSQL.

When CI=true a service that does not answer fails the run; elsewhere its tests skip with
the reason.
"""

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aio_pika
import asyncpg
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier import db
from notifier.app import create_app
from notifier.compose import Services, build_services
from notifier.metadata import target_metadata
from notifier.settings import Settings
from notifier.workers.broker import Topology
from tests import postfix_relay
from tests.smtp_server import Mailbox, free_port, start_smtp

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
ADMIN_TOKEN = "test-admin-token"


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or, under CI, fail) when a service does not accept connections."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        reason = f"{name} is not reachable at {host}:{port}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
async def sqlite_engine(var_dir: Path) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(f"sqlite:///{var_dir}/test.db")
    await db.migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A fresh database for this test session, dropped at the end."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"notifier_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = PG_ADMIN_URL
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def postgresql_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(postgres_url)
    await db.migrate(engine)
    yield engine
    await engine.dispose()


# Rows the migrations seed, as a fresh deployment has them; tests that change them undo it.
SEEDED_TABLES = frozenset({"canned_answers"})


async def _empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(target_metadata.sorted_tables):
            if table.name in SEEDED_TABLES:
                continue
            await connection.execute(text(f'DELETE FROM "{table.name}"'))


@pytest.fixture
async def postgresql_only(postgresql_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The PostgreSQL database alone (its planner, its locking), emptied after the test."""
    yield postgresql_engine
    await _empty_tables(postgresql_engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_engine(request: pytest.FixtureRequest) -> AsyncEngine:
    engine: AsyncEngine = request.getfixturevalue(f"{request.param}_engine")
    return engine


@pytest.fixture
async def engine(backend_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A migrated database of each backend, emptied after every test."""
    yield backend_engine
    await _empty_tables(backend_engine)


_BROKER_NAMES: list[str] = []  # the suffixes of the settings fixture's broker names


@pytest.fixture(scope="session", autouse=True)
def _broker_names_removed() -> Iterator[None]:
    """What the tests declared under their own names goes at the end, in one connection:
    a quorum queue per test left on the shared broker would cost it memory for good."""
    yield
    if _BROKER_NAMES:
        asyncio.run(_remove_broker_names(list(_BROKER_NAMES)))


async def _remove_broker_names(suffixes: list[str]) -> None:
    try:
        connection = await aio_pika.connect(AMQP_URL, timeout=5)
    except (TimeoutError, OSError, aio_pika.exceptions.AMQPError):
        return  # no broker: nothing was declared
    async with connection:
        channel = await connection.channel()
        for suffix in suffixes:
            for queue in (f"test.notifier.{suffix}", f"test.notifier.{suffix}.dead"):
                await channel.queue_delete(queue)
            for exchange in (f"test.events.{suffix}", f"test.outcomes.{suffix}"):
                await channel.exchange_delete(exchange)


@pytest.fixture
def settings(var_dir: Path) -> Settings:
    # Names of this test's own on the shared broker: never the deployment's queues, which
    # another run (or an older version's classic dead-letter queue) may hold.
    suffix = uuid.uuid4().hex[:8]
    _BROKER_NAMES.append(suffix)
    return Settings(
        database_url="sqlite:///unused",  # tests hand their engine in directly
        amqp_url=AMQP_URL,
        events_exchange=f"test.events.{suffix}",
        events_queue=f"test.notifier.{suffix}",
        dead_letter_queue=f"test.notifier.{suffix}.dead",
        outcomes_exchange=f"test.outcomes.{suffix}",
        admin_token=ADMIN_TOKEN,
        mail_dir=var_dir / "mail",
        secret_key="test-secret-key-of-at-least-32-bytes",
    )


@pytest.fixture
def services(settings: Settings, engine: AsyncEngine) -> Services:
    return build_services(settings, engine)


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(params=[False, True], ids=["one-by-one", "pipelined"])
def pipelining(request: pytest.FixtureRequest) -> bool:
    """Each SMTP test against a relay that offers PIPELINING, as Postfix does, and one
    that does not: the channel writes a message's commands differently for each."""
    return bool(request.param)


@pytest.fixture
def smtp(pipelining: bool) -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server (aiosmtpd) on a free loopback port: (port, what it received)."""
    port = free_port()
    controller, mailbox = start_smtp(port, Mailbox(pipelining=pipelining))
    yield port, mailbox
    controller.stop()


@pytest.fixture
async def amqp() -> AsyncIterator[AbstractRobustConnection]:
    require_service("RabbitMQ", "127.0.0.1", 5672)
    connection = await aio_pika.connect_robust(AMQP_URL)
    yield connection
    await connection.close()


@pytest.fixture
async def topology(amqp: AbstractRobustConnection) -> AsyncIterator[Topology]:
    suffix = uuid.uuid4().hex[:10]
    names = Topology(
        exchange=f"test.events.{suffix}",
        queue=f"test.notifier.{suffix}",
        dead_letter_queue=f"test.notifier.{suffix}.dead",
    )
    yield names
    channel = await amqp.channel()
    for queue in (names.queue, names.dead_letter_queue):
        await channel.queue_delete(queue)
    await channel.exchange_delete(names.exchange)
    await channel.close()


@pytest.fixture(scope="module")
def relay() -> Iterator[postfix_relay.Relay]:
    """A strict private Postfix on a free loopback port, one per test module."""
    with postfix_relay.running() as started:
        yield started
