"""Scenarios 3-5: RabbitMQ, PostgreSQL and the mail server away for a while, then back.

The recovery column counts from the moment the dependency is back to the last delivery.
"""

import asyncio
import os
import subprocess
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import AMQP_URL, PG_ADMIN_URL
from tests.faults import population
from tests.faults.counting import Tally, verdict
from tests.faults.processes import Link, now
from tests.faults.world import World, world
from tests.smtp_server import free_port

pytestmark = pytest.mark.faults

# On a machine of its own (CI) the broker itself may be stopped; here other engineers'
# tests share it, so by default only this scenario's link to it is cut.
STOP_RABBITMQ = os.environ.get("FAULTS_STOP_RABBITMQ") == "1"


async def test_rabbitmq_gone_mid_stream_consumer_reconnects_by_itself(
    workdir: Path, record: list[Tally]
) -> None:
    link = Link(free_port(), ("127.0.0.1", 5672))
    await link.restore()
    via_link = AMQP_URL.replace(":5672/", f":{link.port}/")
    async with world("3 RabbitMQ away 12 s", workdir) as w:
        w.sink()
        w.fleet.service("consume", NOTIFIER_AMQP_URL=via_link)
        w.fleet.service("send")
        bodies = population.events(2000)
        await w.publish_events(bodies[:1000])
        await w.arrived(100)  # the consumer is mid-stream
        try:
            await _broker_away(link)
            if not STOP_RABBITMQ:
                await w.publish_events(bodies[1000:])  # they wait in the broker
            await asyncio.sleep(12)
        finally:
            await _broker_back(link)
        back_at = now()
        if STOP_RABBITMQ:
            # The test's own robust connection reconnects on its schedule (up to 5 s).
            await asyncio.wait_for(w.amqp.connected.wait(), timeout=30)
            await w.publish_events(bodies[1000:])
        found = await w.delivered(w.expected(), within=60)
        found.recovery_s = w.tally(w.expected(), back_at).recovery_s
        found.notes.append("rabbitmqctl stop_app" if STOP_RABBITMQ else "consumer's link cut")
        verdict(record, found, missing_0=found.missing == 0, extra_0=found.extra == 0)
    await link.cut()


async def _broker_away(link: Link) -> None:
    if STOP_RABBITMQ:
        await _rabbitmqctl("stop_app")
    else:
        await link.cut()


async def _broker_back(link: Link) -> None:
    if STOP_RABBITMQ:
        await _rabbitmqctl("start_app")
        await _rabbitmqctl("await_startup")
    else:
        await link.restore()


async def _rabbitmqctl(command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "rabbitmqctl", command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    assert await process.wait() == 0, f"rabbitmqctl {command} failed"


async def test_database_connections_killed_and_refused_nothing_lost(
    workdir: Path, record: list[Tally]
) -> None:
    async with world("4 PostgreSQL away 2x6 s", workdir) as w:
        w.sink()
        w.fleet.service("consume")
        w.fleet.service("send")
        stream = asyncio.create_task(w.publish_events(population.events(2000), pause=1.0))
        back_at = now()
        await w.arrived(100)
        for _ in range(2):
            try:
                await _database(w, allow=False)  # and every connection to it ends
                await asyncio.sleep(6)
            finally:
                await _database(w, allow=True)
            back_at = now()
            await asyncio.sleep(2)
        await stream
        found = await w.delivered(w.expected(), within=60)
        found.recovery_s = w.tally(w.expected(), back_at).recovery_s
        found.notes.append(f"tracebacks in service logs: {w.fleet.tracebacks()}")
        verdict(record, found, missing_0=found.missing == 0, extra_0=found.extra == 0)


async def _database(w: World, *, allow: bool) -> None:
    """Only this scenario's database: the PostgreSQL server is shared."""
    name = w.database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}')
        if not allow:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                name,
            )
    finally:
        await admin.close()


async def test_mail_server_down_25_s_everything_delivered_nothing_failed(
    workdir: Path, record: list[Tally]
) -> None:
    # 1, 2, 4, 4, … s between tries (with jitter): 20 tries outlast the outage.
    async with world("5 SMTP down 25 s", workdir, NOTIFIER_SEND_MAX_ATTEMPTS="20") as w:
        sink = w.sink()
        w.fleet.service("consume")
        w.fleet.service("send")
        await w.publish_events(population.events(2000))
        expected = w.expected()
        await w.arrived(len(expected) // 4)
        w.fleet.kill(sink)
        await asyncio.sleep(25)
        w.sink()
        back_at = now()
        found = await w.delivered(expected, within=60)
        found.recovery_s = w.tally(expected, back_at).recovery_s
        rows = await w.sql(
            "SELECT status, count(*) AS n, max(attempts) AS most FROM outbox GROUP BY status"
        )
        statuses = {row["status"]: row["n"] for row in rows}
        found.notes.append(f"outbox {statuses}, most attempts {max(r['most'] for r in rows)}")
        verdict(
            record,
            found,
            missing_0=found.missing == 0,
            extra_0=found.extra == 0,
            none_failed=set(statuses) == {"sent"},
        )
