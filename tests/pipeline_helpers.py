"""Test data, waits and broker fixtures for the notification pipeline tests."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier import db
from notifier.pipeline.broker import Topology
from notifier.pipeline.consumer import Consumer
from notifier.pipeline.models import OutboxMessage
from subscriptions.models import PermissionGrant, Subscription, User
from tests.conftest import AMQP_URL, require_service

STOCKHOLM = {"kind": "kommun", "code": "0180"}
GOTEBORG = {"kind": "kommun", "code": "1480"}
DYGN = "dygnsschablon-ensamkommande"
FAST = "fast-arlig-ensamkommande"
MASSFLYKT = "schablon-fordelningstal-massflykt"


def event_body(event_type: str = "payment.disbursed", **overrides: Any) -> dict[str, Any]:
    """A valid schema v1 event; parts the type does not need are left out."""
    body: dict[str, Any] = {
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "occurred_at": "2026-11-26T10:15:00+01:00",
        "organisation": STOCKHOLM,
        "compensation_type": DYGN,
        "case": {"diarienummer": "1.1.3-2026-123456", "case_officer": "Anna Berg"},
        "person": {"name": "Ali Hassan"},
    }
    if event_type.startswith("payment."):
        body["payment"] = {"amount_sek": "12345.50", "paid_on": "2026-11-25"}
    if event_type == "application.decided":
        body["decision"] = {"outcome": "partially_approved"}
    if event_type == "service.announcement":
        for part in ("case", "person", "compensation_type"):
            body.pop(part)
        body["announcement"] = {
            "title": "Försenade schabloner för juni och juli",
            "body": "Ett fel stoppade vissa schabloner.\n\nPengarna betalas ut sista "
            "bankdagen i september.",
            "compensation_types": [],
        }
    return body | overrides


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


async def add_user(
    session: AsyncSession,
    user_id: str,
    *,
    org: dict[str, str] = STOCKHOLM,
    grants: dict[str, str] | None = None,
    subscribed: tuple[str, ...] = ("payment.disbursed",),
    enabled: bool = True,
) -> None:
    session.add(
        User(
            id=user_id,
            email=f"{user_id}@kommun.example.se",
            name=f"Användare {user_id}",
            org_kind=org["kind"],
            org_code=org["code"],
        )
    )
    await session.flush()  # grants and subscriptions refer to the user
    for ctype, level in (grants or {}).items():
        session.add(PermissionGrant(user_id=user_id, compensation_type=ctype, level=level))
    for event_type in subscribed:
        session.add(Subscription(user_id=user_id, event_type=event_type, enabled=enabled))


async def outbox(engine: AsyncEngine) -> list[OutboxMessage]:
    async with db.sessionmaker(engine)() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)  # type: ignore[arg-type]
        return list((await session.exec(query)).all())


async def eventually(
    probe: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> None:
    """Wait until probe() is true, failing after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await probe():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.05)


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


@asynccontextmanager
async def running(consumer: Consumer) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.consuming.wait(), timeout=15)
        yield task
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def message_count(amqp: AbstractRobustConnection, queue_name: str) -> int:
    channel = await amqp.channel()
    queue = await channel.declare_queue(queue_name, passive=True)
    count = queue.declaration_result.message_count or 0
    await channel.close()
    return count


async def settled(consumer: Consumer, count: int) -> None:
    async def done() -> bool:
        return consumer.acknowledged >= count

    await eventually(done, within=30, what=f"{count} messages acknowledged")
