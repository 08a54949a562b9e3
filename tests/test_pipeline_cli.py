"""Operator commands: dead letters listed and replayed on the real RabbitMQ, and the sample
that shows a new user emails appear."""

import io
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.sqltypes import utcnow
from domain.swedish import SWEDISH_TIME
from notifier import db
from notifier.outbox.events import parse_event
from notifier.outbox.record import record_events
from notifier.workers import sample
from notifier.workers.broker import Topology, declare
from notifier.workers.consumer import Consumer
from notifier.workers.dead_letters import list_dead_letters, matching, progress_bar, replay
from tests.conftest import AMQP_URL
from tests.pipeline_helpers import (
    encode,
    message_count,
    outbox,
    running,
    settled,
)


@pytest.fixture
async def dead_lettered(
    engine: AsyncEngine, amqp: AbstractRobustConnection, topology: Topology
) -> AsyncIterator[Topology]:
    """Two messages the consumer dead-lettered: not JSON, and an unknown event type."""
    consumer = Consumer(
        amqp_url=AMQP_URL, engine=engine, sessions=db.sessionmaker(engine), topology=topology
    )
    unknown = {"schema_version": 1, "event_id": str(uuid.uuid4()), "event_type": "x.y"}
    async with running(consumer):
        channel = await amqp.channel()
        exchange = await channel.get_exchange(topology.exchange)
        await exchange.publish(aio_pika.Message(b"oops"), routing_key="payment.disbursed")
        await exchange.publish(aio_pika.Message(encode(unknown)), routing_key="x.y")
        await channel.close()
        await settled(consumer, 2)
    yield topology


async def test_dead_letters_list_shows_reason_event_id_and_time_and_keeps_them(
    dead_lettered: Topology, amqp: AbstractRobustConnection
) -> None:
    letters = await list_dead_letters(AMQP_URL, dead_lettered, limit=10)
    assert [(letter.reason, letter.routing_key) for letter in letters] == [
        ("not valid JSON", "payment.disbursed"),
        ("event_type: Value error, unknown event type 'x.y'; occurred_at: Field required", "x.y"),
    ]
    assert letters[0].event_id == "-" and len(letters[1].event_id) == 36
    assert letters[0].at.startswith(str(utcnow().year))
    # People read the time in Swedish time, as everywhere.
    assert letters[0].line().startswith(f"{utcnow().astimezone(SWEDISH_TIME):%Y-%m-%d %H}.")
    assert await message_count(amqp, dead_lettered.dead_letter_queue) == 2


async def test_dead_letters_replay_requeues_onto_the_exchange_with_progress(
    dead_lettered: Topology, amqp: AbstractRobustConnection
) -> None:
    shown = io.StringIO()
    replayed = await replay(AMQP_URL, dead_lettered, progress=progress_bar(shown.write, 10))
    assert len(replayed) == 2
    assert shown.getvalue().endswith("\r[##########] 2/2\n")
    assert await message_count(amqp, dead_lettered.dead_letter_queue) == 0
    channel = await amqp.channel()
    queue = await channel.get_queue(dead_lettered.queue)
    first = await queue.get(no_ack=True, timeout=5)
    assert first is not None and first.body == b"oops"
    assert first.routing_key == "payment.disbursed"
    assert not any(name.startswith("x-notifier") for name in first.headers or {})
    await channel.close()


async def test_a_dry_run_replays_nothing_and_a_filter_replays_only_what_it_names(
    dead_lettered: Topology, amqp: AbstractRobustConnection
) -> None:
    quiet = progress_bar(io.StringIO().write)
    dry = await replay(AMQP_URL, dead_lettered, progress=quiet, dry_run=True)
    assert [letter.routing_key for letter in dry] == ["payment.disbursed", "x.y"]
    assert await message_count(amqp, dead_lettered.dead_letter_queue) == 2
    assert await message_count(amqp, dead_lettered.queue) == 0

    chosen = matching(reason="JSON", routing_key="payment.disbursed")
    [replayed] = await replay(AMQP_URL, dead_lettered, progress=quiet, select=chosen)
    assert replayed.reason == "not valid JSON"
    left = await list_dead_letters(AMQP_URL, dead_lettered, limit=10)
    assert [letter.routing_key for letter in left] == ["x.y"]


def test_publish_sample_says_it_needs_rabbitmq_and_makes_two_users() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "notifier", "publish-sample", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "RabbitMQ" in " ".join(shown.split()) and "two sample users" in shown


def test_publish_sample_ends_with_its_own_message(topology: Topology, tmp_path: Path) -> None:
    env = os.environ | {
        "NOTIFIER_DATABASE_URL": f"sqlite:///{tmp_path}/n.db",
        "NOTIFIER_AMQP_URL": AMQP_URL,
        "NOTIFIER_EVENTS_EXCHANGE": topology.exchange,
        "NOTIFIER_EVENTS_QUEUE": topology.queue,
        "NOTIFIER_DEAD_LETTER_QUEUE": topology.dead_letter_queue,
        "NOTIFIER_MAIL_DIR": str(tmp_path / "mail"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "notifier", "publish-sample"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    assert done.stdout.startswith("Publicerade 8 händelser")
    assert "alembic" not in done.stderr, done.stderr


async def test_the_sample_reaches_its_sample_users(engine: AsyncEngine) -> None:
    events = [parse_event(encode(body)) for body in sample.sample_events()]
    async with db.sessionmaker(engine)() as session:
        await sample.ensure_sample_users(session)
        await sample.ensure_sample_users(session)  # a second run changes nothing
        await record_events(session=session, events=events, now=utcnow())
        await session.commit()
    rows = await outbox(engine)
    # Seven case events to both users, the massflykt announcement only to Anna.
    assert len(rows) == 15
    assert {r.level for r in rows if r.user_id == "sample-erik"} == {"summary"}


async def test_the_sample_is_published_to_the_exchange(
    amqp: AbstractRobustConnection, topology: Topology
) -> None:
    events = sample.sample_events()
    await sample.publish(AMQP_URL, topology, events)
    assert await message_count(amqp, topology.queue) == len(events)
    channel = await amqp.channel()
    await declare(channel, topology)  # the topology stays as declared
    await channel.close()
