"""The operator's day's service (`notifier api`, `consume` and `send` on one SQLite file,
this run's own RabbitMQ names, an SMTP server in this process) and its helpers."""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import aio_pika
import httpx
import pytest
from playwright.async_api import Page

from domain.sqltypes import utcnow
from notifier.console import announcements
from notifier.workers.broker import (
    REASON_HEADER,
    ROUTING_KEY_HEADER,
    TIME_HEADER,
    Topology,
    declare,
)
from tests.browser.conftest import ADMIN_TOKEN, _free_port, _require_chromium, _wait_until_up
from tests.browser.helpers import axe_violations, describe
from tests.factories import DYGN, FAST, MASSFLYKT, event_body
from tests.smtp_server import Mailbox, start_smtp

AMQP = "amqp://guest:guest@127.0.0.1:5672/"
DOCS = Path(__file__).resolve().parents[2] / "docs"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NEWS = "service.announcement"
PAID = "payment.disbursed"
# user id → (grants, subscribed event types, subscriptions enabled)
USERS = {
    "anna": ({DYGN: "full"}, [PAID, NEWS], True),
    "erik": ({MASSFLYKT: "summary"}, [NEWS], True),
    "olle": ({DYGN: "full"}, [PAID, NEWS], False),
    "lisa": ({FAST: "full"}, [PAID, NEWS], True),
}


@dataclass(frozen=True)
class Service:
    url: str
    var: Path
    topology: Topology
    mailbox: Mailbox


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    _require_chromium()
    var = tmp_path_factory.mktemp("console-var")
    suffix = uuid.uuid4().hex[:10]
    topology = Topology(
        exchange=f"test.console.{suffix}",
        queue=f"test.console.{suffix}",
        dead_letter_queue=f"test.console.{suffix}.dead",
    )
    smtp_port, web = _free_port(), _free_port()
    controller, mailbox = start_smtp(smtp_port)
    env = os.environ | {
        "NOTIFIER_DATABASE_URL": f"sqlite:///{var}/notifier.db",
        "NOTIFIER_MAIL_DIR": str(var / "mail"),
        "NOTIFIER_ADMIN_TOKEN": ADMIN_TOKEN,
        "NOTIFIER_SECRET_KEY": "browser-secret-key-of-at-least-32-bytes",
        "NOTIFIER_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "NOTIFIER_AMQP_URL": AMQP,
        "NOTIFIER_EVENTS_EXCHANGE": topology.exchange,
        "NOTIFIER_EVENTS_QUEUE": topology.queue,
        "NOTIFIER_DEAD_LETTER_QUEUE": topology.dead_letter_queue,
        "NOTIFIER_SEND_POLL_SECONDS": "0.2",
        "NOTIFIER_BASE_URL": f"http://127.0.0.1:{web}",
    }
    log = (var / "server.log").open("wb")
    run = [sys.executable, "-m", "notifier"]
    api = subprocess.Popen(
        [*run, "api", "--host", "127.0.0.1", "--port", str(web)], env=env, stdout=log, stderr=log
    )
    processes = [api]
    try:
        _wait_until_up(f"http://127.0.0.1:{web}", api)  # migrated before the others start
        for command in ("consume", "send"):
            processes.append(subprocess.Popen([*run, command], env=env, stdout=log, stderr=log))
        yield Service(f"http://127.0.0.1:{web}", var, topology, mailbox)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        controller.stop()
        log.close()
        asyncio.run(_forget(topology))


async def _forget(topology: Topology) -> None:
    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        for queue in (topology.queue, topology.dead_letter_queue):
            await channel.queue_delete(queue)
        await channel.exchange_delete(topology.exchange)


async def check(page: Page) -> None:
    violations = await axe_violations(page)
    assert violations == [], f"{page.url}\n{describe(violations)}"


def mails(mailbox: Mailbox) -> list[Message]:
    return [message_from_bytes(raw, policy=policy.default) for raw in list(mailbox.raw)]


async def eventually_mail(mailbox: Mailbox, wanted: int, subject: str) -> list[Message]:
    for _ in range(150):
        found = [m for m in mails(mailbox) if subject in str(m["Subject"])]
        if len(found) >= wanted:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{wanted} mails about {subject!r} never came")


async def publish(topology: Topology, body: dict[str, object]) -> None:
    await announcements.publisher(AMQP, topology)([body])


async def bury(topology: Topology, body: dict[str, object]) -> None:
    """A valid event in the dead-letter queue, as one dead-lettered before a fix."""
    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        await declare(channel, topology)
        headers = {
            REASON_HEADER: "unknown event type",
            ROUTING_KEY_HEADER: PAID,
            TIME_HEADER: "2026-12-07T08:00:00+00:00",
        }
        message = aio_pika.Message(json.dumps(body).encode(), headers=headers)
        await channel.default_exchange.publish(message, routing_key=topology.dead_letter_queue)


async def set_up(service: Service) -> tuple[str, str]:
    """The users, an event they were matched against, and an operator's token."""
    async with httpx.AsyncClient(base_url=service.url, headers=ADMIN) as http:
        for user_id, (grants, types, enabled) in USERS.items():
            user = {
                "email": f"{user_id}@kommun.example.se",
                "name": user_id.title(),
                "organisation": {"kind": "kommun", "code": "0180"},
            }
            assert (await http.put(f"/api/v1/users/{user_id}", json=user)).status_code < 300
            await http.put(f"/api/v1/users/{user_id}/permissions", json={"grants": grants})
            subscriptions = {"enabled": enabled, "event_types": types}
            await http.put(f"/api/v1/users/{user_id}/subscriptions", json=subscriptions)
        operator = await http.post(
            "/api/v1/staff", json={"name": "Olle Drift", "roles": ["operator"]}
        )
    event = event_body(PAID, occurred_at=utcnow().isoformat())
    await publish(service.topology, event)
    await eventually_mail(service.mailbox, 1, "")
    return str(event["event_id"]), operator.json()["token"]
