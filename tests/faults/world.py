"""One scenario's world: a fresh PostgreSQL database with the fault users, its own
exchange and queues on the real RabbitMQ, an SMTP sink process, and the service's
processes pointed at them. Everything is removed afterwards, whatever happened."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
from aio_pika.abc import AbstractRobustConnection

from notifier import db
from notifier.workers.broker import Topology, declare, node_urls
from subscriptions import lookup
from subscriptions.models import PermissionGrant, Subscription, User
from tests.conftest import AMQP_URL, PG_ADMIN_URL, require_service
from tests.faults import population
from tests.faults.counting import Tally, read_sink, tally
from tests.faults.processes import Fleet, now
from tests.smtp_server import free_port

# Short waits so that a scenario takes seconds: the schedule's shape is what is tested.
FAST_ENV = {
    "NOTIFIER_SEND_POLL_SECONDS": "0.2",
    "NOTIFIER_SEND_BACKOFF_SECONDS": "1",
    "NOTIFIER_SEND_BACKOFF_MAX_SECONDS": "4",
    "NOTIFIER_LOG_LEVEL": "WARNING",
    "NOTIFIER_SECRET_KEY": "fault-suite-secret-key-of-32-bytes-or-more",
}


@dataclass
class World:
    name: str
    database_url: str
    topology: Topology
    fleet: Fleet
    amqp: AbstractRobustConnection
    people: list[population.FaultUser]
    sink_port: int
    sink_log: Path
    published: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=now)

    def expected(self) -> set[tuple[str, str]]:
        return population.expected_emails(self.people, self.published)

    def tally(self, expected: set[tuple[str, str]], fault_at: float | None = None) -> Tally:
        by_email = {user.email: user.id for user in self.people}
        found = tally(self.name, read_sink(self.sink_log), expected, by_email, fault_at=fault_at)
        found.total_s = round(now() - self.started, 1)
        return found

    def sink(self, *args: str) -> Any:
        return self.fleet.sink(self.sink_port, self.sink_log, *args)

    async def publish_events(self, bodies: list[dict[str, Any]], **pace: float) -> None:
        self.published += bodies
        messages = [(body["event_type"], json.dumps(body).encode()) for body in bodies]
        await self.publish(messages, **pace)

    async def publish(
        self, messages: list[tuple[str, bytes]], *, chunk: int = 250, pause: float = 0.0
    ) -> None:
        """Persistent and confirmed, `chunk` at a time with `pause` seconds between; what
        the broker refuses (a quorum queue changing leader nacks) is published again on a
        new channel, as a publisher with confirms does."""
        for start in range(0, len(messages), chunk):
            waiting = messages[start : start + chunk]
            deadline = now() + 120
            while waiting:
                assert now() < deadline, f"the broker refused {len(waiting)} messages for 120 s"
                waiting = await self._publish_once(waiting)
                if waiting:
                    await asyncio.sleep(0.5)
            if pause:
                await asyncio.sleep(pause)

    async def _publish_once(self, messages: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        """Publish on a channel of its own; the messages not confirmed."""
        channel = await self.amqp.channel()
        try:
            exchange = await channel.get_exchange(self.topology.exchange)
            results = await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            body,
                            content_type="application/json",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=key,
                        timeout=10,
                    )
                    for key, body in messages
                ),
                return_exceptions=True,
            )
        finally:
            with contextlib.suppress(Exception):
                await channel.close()
        failed = (aio_pika.exceptions.DeliveryError, TimeoutError)
        return [m for m, r in zip(messages, results, strict=True) if isinstance(r, failed)]

    async def delivered(self, expected: set[tuple[str, str]], *, within: float) -> Tally:
        """Wait (at most `within` s) until every expected email arrived, then a moment
        more for late duplicates; the tally either way."""
        await wait_for(lambda: not self.tally(expected).missing, within)
        await asyncio.sleep(1.5)
        return self.tally(expected)

    async def arrived(self, count: int, *, within: float = 60) -> None:
        """Wait until the sink accepted `count` messages: the pipeline is moving."""
        accepted = lambda: len(read_sink(self.sink_log).accepted) >= count  # noqa: E731
        assert await wait_for(accepted, within), f"fewer than {count} emails in {within} s"

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.database_url)
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    async def dead_lettered(self) -> int:
        channel = await self.amqp.channel()
        queue = await channel.declare_queue(self.topology.dead_letter_queue, passive=True)
        await channel.close()
        return queue.declaration_result.message_count or 0


async def wait_for(probe: Callable[[], Awaitable[bool] | bool], within: float) -> bool:
    deadline = now() + within
    while now() < deadline:
        result = probe()
        if result if isinstance(result, bool) else await result:
            return True
        await asyncio.sleep(0.2)
    return False


@asynccontextmanager
async def world(
    name: str,
    workdir: Path,
    *,
    refused: tuple[str, ...] = (),
    amqp_url: str = AMQP_URL,
    own_broker: bool = False,
    **env: str,
) -> AsyncIterator[World]:
    """`amqp_url` is the service's NOTIFIER_AMQP_URL; the world itself declares and
    publishes through its first node. `own_broker`: the scenario's own nodes, thrown away
    after it, so their queues are left as they are."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    if not own_broker:
        require_service("RabbitMQ", "127.0.0.1", 5672)
    suffix = uuid.uuid4().hex[:10]
    database_url = await _database(f"faults_{suffix}")
    topology = Topology(
        exchange=f"faults.events.{suffix}",
        queue=f"faults.notifier.{suffix}",
        dead_letter_queue=f"faults.notifier.{suffix}.dead",
    )
    people = population.users(refused=refused)
    amqp = await aio_pika.connect_robust(node_urls(amqp_url)[0])
    sink_port = free_port()
    service_env = _env(database_url, topology, sink_port, workdir) | {"NOTIFIER_AMQP_URL": amqp_url}
    fleet = Fleet(workdir, service_env | env)
    try:
        await _seed(database_url, people)
        channel = await amqp.channel()
        await declare(channel, topology)
        await channel.close()
        yield World(
            name, database_url, topology, fleet, amqp, people, sink_port, workdir / "sink.jsonl"
        )
    except BaseException:
        # pytest shows this with the failure; the temporary folder may be gone by then.
        for log, text in fleet.logs():
            print(f"--- {log} (last 30 lines)", *text.splitlines()[-30:], sep="\n")
        raise
    finally:
        fleet.stop_all()
        await _remove(None if own_broker else amqp, topology, database_url)
        await amqp.close()


def _env(database_url: str, topology: Topology, sink_port: int, workdir: Path) -> dict[str, str]:
    return FAST_ENV | {
        "NOTIFIER_DATABASE_URL": database_url,
        "NOTIFIER_AMQP_URL": AMQP_URL,
        "NOTIFIER_SMTP_URL": f"smtp://127.0.0.1:{sink_port}",
        "NOTIFIER_EVENTS_EXCHANGE": topology.exchange,
        "NOTIFIER_EVENTS_QUEUE": topology.queue,
        "NOTIFIER_DEAD_LETTER_QUEUE": topology.dead_letter_queue,
        "NOTIFIER_MAIL_DIR": str(workdir / "var" / "mail"),
    }


async def _database(name: str) -> str:
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = db.create_engine(url)
    try:
        await db.migrate(engine)
    finally:
        await engine.dispose()
    return url


async def _seed(url: str, people: list[population.FaultUser]) -> None:
    engine = db.create_engine(url)
    try:
        async with db.sessionmaker(engine)() as session:
            for user in people:
                kind, code = user.org
                session.add(
                    User(
                        id=user.id,
                        email=user.email,
                        name=f"Namn {user.id}",
                        org_kind=kind,
                        org_code=code,
                    )
                )
            await session.flush()
            for user in people:
                for ctype, level in user.grants.items():
                    session.add(
                        PermissionGrant(user_id=user.id, compensation_type=ctype, level=level)
                    )
                for event_type in user.subscribed:
                    session.add(
                        Subscription(user_id=user.id, event_type=event_type, enabled=user.enabled)
                    )
            await session.flush()
            # Past the store, so the recipient lookup is filled here: a new database, all at once.
            await session.exec(lookup.derive())
            await session.commit()
    finally:
        await engine.dispose()


async def _remove(amqp: AbstractRobustConnection | None, topology: Topology, url: str) -> None:
    try:
        if amqp is not None:
            channel = await amqp.channel()
            for queue in (topology.queue, topology.dead_letter_queue):
                await channel.queue_delete(queue)
            await channel.exchange_delete(topology.exchange)
            await channel.close()
    finally:
        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            name = url.rsplit("/", 1)[1]
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
