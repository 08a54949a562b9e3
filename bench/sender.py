"""How fast the outbox sender is next to bare aiosmtplib, on an SMTP server on loopback.

    .venv/bin/python -m bench.sender [--messages 5000] [--database-url postgresql://…]

Starts an aiosmtpd server on 127.0.0.1 (a free port, in its own thread) that accepts and
counts, then sends the same number of messages twice: prebuilt EmailMessages of our size
(a Swedish payment notification, text and HTML parts, rendered by our templates) over one
bare aiosmtplib connection, the natural baseline; and by our Sender through SmtpTransport
from pending outbox rows (recorded by record_events for events matched to one subscriber
with a grant), claiming, rendering, delivering and recording batch after batch until none
is pending. Prints both rates and our ratio; the goal is at least 0.8.

The database is a fresh SQLite file unless --database-url is given; a PostgreSQL database
given there should be empty (the schema is migrated into it and left there).
"""

import argparse
import asyncio
import socket
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller
from sqlalchemy import func
from sqlmodel import col, select

from domain.compensation import PermissionLevel
from domain.sqltypes import utcnow
from notifier import db
from notifier.channels.mime import build_email
from notifier.channels.smtp import SmtpConfig, SmtpTransport
from notifier.kinds.rendering import Renderer, build_environment
from notifier.pipeline.events import Event, parse_payload
from notifier.pipeline.models import OutboxMessage, OutboxStatus
from notifier.pipeline.outbox import record_events
from notifier.pipeline.sender import Sender
from notifier.web.unsubscribe import Unsubscribe
from subscriptions.models import PermissionGrant, Subscription, User

HOST = "127.0.0.1"
SENDER = "no-reply@statlig-ersattning.example.se"
ORG = {"kind": "kommun", "code": "0180"}
DYGN = "dygnsschablon-ensamkommande"
USER = "bench-full"


class Counter:
    """An SMTP handler that accepts every message and only counts it."""

    def __init__(self) -> None:
        self.accepted = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted += 1
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def event(number: int) -> Event:
    return parse_payload(
        {
            "schema_version": 1,
            "event_id": f"00000000-0000-4000-8000-{number:012d}",
            "event_type": "payment.disbursed",
            "occurred_at": "2026-11-26T10:15:00+01:00",
            "organisation": ORG,
            "compensation_type": DYGN,
            "case": {"diarienummer": "1.1.3-2026-123456", "case_officer": "Anna Berg"},
            "person": {"name": "Åsa Öberg"},
            "payment": {"amount_sek": "12345.50", "paid_on": "2026-11-25"},
        }
    )


def renderer() -> Renderer:
    links = Unsubscribe(b"bench-signing-key-not-a-secret", "https://notifier.example.se")
    return Renderer(
        build_environment(),
        eservice_url="https://eservice.example.se",
        unsubscribe_url=links.url,
        preferences_url=lambda user_id: f"https://notifier.example.se/mina-notifieringar/{user_id}",
    )


def prebuilt(count: int) -> list[EmailMessage]:
    """Emails exactly like ours, built before the clock starts."""
    rendering = renderer()
    emails = []
    for number in range(count):
        email = rendering.render(event(number), level=PermissionLevel.FULL, user_id=USER)
        row = OutboxMessage(
            id=number + 1,
            message_id=f"<bench-{number}@statlig-ersattning.invalid>",
            channel="email",
            kind="notification",
            recipient=f"{USER}@kommun.example.se",
            subject=email.subject,
            body_text=email.text,
            body_html=email.html,
            headers=email.headers,
        )
        emails.append(build_email(row, SENDER))
    return emails


async def bare(port: int, emails: list[EmailMessage]) -> float:
    start = time.perf_counter()
    client = aiosmtplib.SMTP(hostname=HOST, port=port, timeout=30)
    await client.connect()
    for email in emails:
        await client.send_message(email)
    await client.quit()
    return len(emails) / (time.perf_counter() - start)


async def queue(url: str, count: int) -> None:
    """One subscriber with a full grant, `count` events for them: `count` pending rows."""
    engine = db.create_engine(url)
    await db.migrate(engine)
    async with db.sessionmaker(engine)() as session:
        session.add(
            User(
                id=USER,
                email=f"{USER}@kommun.example.se",
                name="Bänk Användare",
                org_kind=ORG["kind"],
                org_code=ORG["code"],
            )
        )
        await session.flush()
        session.add(PermissionGrant(user_id=USER, compensation_type=DYGN, level="full"))
        session.add(Subscription(user_id=USER, event_type="payment.disbursed"))
        await session.commit()
    for start in range(0, count, 1000):
        async with db.sessionmaker(engine)() as session:
            events = [event(n) for n in range(start, min(start + 1000, count))]
            await record_events(session=session, events=events, now=utcnow())
            await session.commit()
    await engine.dispose()


async def ours(port: int, url: str, count: int, batch_size: int) -> float:
    await queue(url, count)
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    transport = SmtpTransport(SmtpConfig(HOST, port), SENDER, timeout=30)
    sender = Sender(
        sessions=sessions,
        transports={"email": transport},
        renderer=renderer(),
        batch_size=batch_size,
    )
    start = time.perf_counter()
    while await sender.send_batch():
        pass
    rate = count / (time.perf_counter() - start)
    async with sessions() as session:
        query = select(func.count()).where(col(OutboxMessage.status) != OutboxStatus.SENT)
        unsent = (await session.exec(query)).one()
    await engine.dispose()
    if unsent:
        raise SystemExit(f"{unsent} outbox rows were not sent")
    return rate


async def run(args: argparse.Namespace, url: str) -> None:
    counter = Counter()
    port = free_port()
    controller = Controller(counter, hostname=HOST, port=port)
    controller.start()
    try:
        async with asyncio.timeout(args.timeout):
            raw = await bare(port, prebuilt(args.messages))
            print(f"bare aiosmtplib: {raw:8.0f} messages/s")
            our_rate = await ours(port, url, args.messages, args.batch_size)
            print(f"our sender:      {our_rate:8.0f} messages/s  ({url.split(':')[0]})")
            print(f"ratio ours/raw:  {our_rate / raw:8.2f}  (goal: at least 0.80)")
    finally:
        controller.stop()
    if counter.accepted != 2 * args.messages:
        raise SystemExit(f"the server accepted {counter.accepted}, not {2 * args.messages}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=100, help="the sender's default")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the whole run")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(args, url))


if __name__ == "__main__":
    main()
