"""The outbox sender against a real SMTP server (aiosmtpd on loopback) and the .eml
folder, on SQLite and PostgreSQL: delivered once, retried when the server is away, failed
with a reason when it refuses, nothing deleted."""

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.sqltypes import utcnow
from notifier import db
from notifier.channels.base import Channel, Files, Results
from notifier.channels.files import FileChannel
from notifier.channels.mime import Composer
from notifier.channels.smtp import SmtpChannel, SmtpConfig
from notifier.kinds.notifications import (
    NotificationSteps,
    placeholder_links,
    placeholder_preferences,
)
from notifier.kinds.rendering import Footer, Renderer
from notifier.outbox.claim import IN_INDEX_ORDER, SORTING_AGAIN, RetryPolicy, backoff, leasing
from notifier.outbox.events import Event
from notifier.outbox.models import Claimed, OutboxKind, OutboxMessage
from notifier.outbox.record import record_events
from notifier.templating import email_environment
from notifier.workers.sender import Sender
from subscriptions import store
from subscriptions.models import User
from tests.pipeline_helpers import DYGN, add_user, event_body, outbox
from tests.smtp_server import LimitedController, Mailbox, free_port, start_smtp

PERSON = "Ali Hassan"
NO_WAIT = RetryPolicy(max_attempts=3, base=0, cap=0)  # a failed row is due again at once


def eml_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.eml"))


def read_eml(path: Path) -> EmailMessage:
    email = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(email, EmailMessage)
    return email


def readable(email: EmailMessage) -> str:
    """Every header and part as a reader sees them, encodings undone."""
    headers = [f"{name}: {value}" for name, value in email.items()]
    parts = [
        part.get_content()
        for part in email.walk()
        if isinstance(part, EmailMessage) and not part.is_multipart()
    ]
    return "\n".join(headers + parts)


def unique_part(message_id: str) -> str:
    """A Message-ID's left of the @: the outbox's id (the domain is the sender's)."""
    return message_id.strip("<>").rpartition("@")[0]


def notifications() -> NotificationSteps:
    renderer = Renderer(
        email_environment(),
        eservice_url="https://eservice.example.se/",
        unsubscribe_url=placeholder_links,
        preferences_url=placeholder_preferences,
        footer=Footer(
            contact_email="etjanstkommuner@migrationsverket.se",
            support_url="https://notifier.example.se/support",
        ),
    )
    return NotificationSteps(
        renderer,
        lambda user, event_type: f"http://localhost:8000/unsubscribe/{user}",
        lambda user: f"http://localhost:8000/mina-notifieringar/{user}",
    )


def sender(engine: AsyncEngine, channel: Channel, **overrides: Any) -> Sender:
    options: dict[str, Any] = {
        "policy": NO_WAIT,
        "rng": random.Random(3),
        "kinds": {OutboxKind.NOTIFICATION: notifications()},
    } | overrides
    return Sender(sessions=db.sessionmaker(engine), channels={"email": channel}, **options)


def smtp_channel(port: int) -> SmtpChannel:
    return SmtpChannel(SmtpConfig("127.0.0.1", port), "no-reply@example.se", timeout=5)


@pytest.fixture
async def queued(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A payment event matched to a `full` and a `summary` user: two pending rows."""
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "full", grants={DYGN: "full"})
        await add_user(session, "summary", grants={DYGN: "summary"})
        await session.commit()
    await queue_event(engine)
    yield engine


async def queue_event(engine: AsyncEngine, **body: Any) -> None:
    async with db.sessionmaker(engine)() as session:
        event = Event.model_validate(event_body(**body))
        await record_events(session=session, events=[event], now=utcnow())
        await session.commit()


def statuses(rows: list[OutboxMessage]) -> dict[str, str]:
    return {row.user_id or row.message_id: row.status for row in rows}


async def test_emails_are_written_as_eml_files_without_smtp(
    queued: AsyncEngine, tmp_path: Path
) -> None:
    assert await sender(queued, FileChannel(tmp_path, "no-reply@example.se")).send_batch() == 2
    files = eml_files(tmp_path)
    assert len(files) == 2
    emails = {str(m["To"]): m for m in (read_eml(f) for f in files)}
    full, summary = emails["full@kommun.example.se"], emails["summary@kommun.example.se"]
    assert isinstance(full, EmailMessage) and isinstance(summary, EmailMessage)
    assert PERSON in readable(full)
    assert PERSON not in readable(summary)  # subject, both parts and all headers
    assert summary["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert summary["List-Unsubscribe"] == "<http://localhost:8000/unsubscribe/summary>"
    long_url = "<http://localhost:8000/unsubscribe/" + "x" * 150 + ">"
    assert f"List-Unsubscribe: {long_url}\r\n".encode() in Composer("no-reply@example.se").wire(
        OutboxMessage(
            message_id="m", kind="k", recipient="a@b.se", headers={"List-Unsubscribe": long_url}
        )
    )  # not folded into an encoded word clients cannot use
    rows = await outbox(queued)
    assert {unique_part(str(m["Message-ID"])) for m in emails.values()} == {
        unique_part(r.message_id) for r in rows
    }
    assert statuses(rows) == {"full": "sent", "summary": "sent"}
    assert all(r.sent_at is not None and r.attempts == 1 for r in rows)


async def test_smtp_deals_a_batch_over_its_connections_and_keeps_them_for_the_next(
    queued: AsyncEngine, smtp: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp
    await queue_event(queued)
    channel = SmtpChannel(
        SmtpConfig("127.0.0.1", port), "no-reply@example.se", timeout=5, connections=2
    )
    assert await sender(queued, channel).send_batch() == 4
    assert len(mailbox.messages) == 4 and mailbox.sessions == 2
    await queue_event(queued)
    assert await sender(queued, channel).send_batch() == 2
    assert len(mailbox.messages) == 6 and mailbox.sessions == 2  # the same two, kept
    await channel.aclose()
    body = mailbox.messages[0].get_body(("plain",))
    assert body is not None and "Utbetalning gjord" in body.get_content()
    assert set(statuses(await outbox(queued)).values()) == {"sent"}


async def test_connections_a_relay_refuses_leave_their_emails_to_the_others(
    pipelining: bool,
) -> None:
    """Connections the relay refuses (421 at the greeting) leave their messages to the
    connections it accepted: nothing waits for a retry later while those deliver."""
    mailbox = Mailbox(pipelining=pipelining)
    controller = LimitedController(mailbox, most=2, hostname="127.0.0.1", port=free_port())
    controller.start()
    channel = SmtpChannel(
        SmtpConfig("127.0.0.1", controller.port), "no-reply@example.se", timeout=5, connections=4
    )
    rows = [
        Claimed(
            **OutboxMessage(
                id=n, message_id=f"<m{n}@x>", kind="k", recipient=f"p{n}@kommun.example.se"
            ).model_dump()
        )
        for n in range(1, 21)
    ]
    try:
        assert await channel.deliver(rows) == dict.fromkeys(range(1, 21))
        assert controller.refused >= 1  # it did turn connections away
        assert len(mailbox.messages) == 20
    finally:
        await channel.aclose()
        controller.stop()


async def test_a_batch_is_sent_while_a_finished_worker_has_not_left_the_set_yet(
    smtp: tuple[int, Mailbox],
) -> None:
    """A worker whose queue ran dry is done at once but leaves the channel's set of
    workers only when its done-callback runs: a batch handed over in between must still
    get a worker, or it would wait forever while its lease is renewed."""
    port, mailbox = smtp
    channel = SmtpChannel(SmtpConfig("127.0.0.1", port), "no-reply@example.se", connections=1)
    finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    finished.set_result(None)
    channel._workers.add(finished)  # type: ignore[arg-type]  # as between end and discard
    row = OutboxMessage(id=1, message_id="<m1@x>", kind="k", recipient="a@b.se")
    message = Claimed(**row.model_dump())
    assert await asyncio.wait_for(channel.deliver([message]), 10) == {1: None}
    assert len(mailbox.messages) == 1
    await channel.aclose()


async def test_a_long_unsubscribe_url_reaches_the_smtp_server_unfolded(
    engine: AsyncEngine, smtp: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp
    long_url = "<http://localhost:8000/unsubscribe/" + "x" * 150 + ">"
    row = OutboxMessage(
        id=1, message_id="m", kind="k", recipient="a@b.se", headers={"List-Unsubscribe": long_url}
    )
    assert await smtp_channel(port).deliver([row]) == {1: None}
    assert dict(mailbox.messages[0].raw_items())["List-Unsubscribe"] == long_url


async def test_smtp_down_then_up_delivers_every_email_exactly_once(
    queued: AsyncEngine, pipelining: bool
) -> None:
    port = free_port()  # nothing listens yet
    channel = smtp_channel(port)
    assert await sender(queued, channel).send_batch() == 2
    rows = await outbox(queued)
    assert statuses(rows) == {"full": "pending", "summary": "pending"}
    assert all(r.attempts == 1 and "TransientDeliveryError" in (r.last_error or "") for r in rows)
    controller, mailbox = start_smtp(port, Mailbox(pipelining=pipelining))
    try:
        assert await sender(queued, channel).send_batch() == 2
        assert await sender(queued, channel).send_batch() == 0
    finally:
        controller.stop()
    assert sorted(map(unique_part, mailbox.message_ids())) == sorted(
        unique_part(r.message_id) for r in rows
    )
    rows = await outbox(queued)
    assert statuses(rows) == {"full": "sent", "summary": "sent"}
    assert [r.attempts for r in rows] == [2, 2]


async def test_a_refused_recipient_is_failed_with_the_reason(
    engine: AsyncEngine, smtp: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "refused", grants={DYGN: "full"})
        await add_user(session, "fine", grants={DYGN: "full"})
        await session.commit()
    await queue_event(engine)
    assert await sender(engine, smtp_channel(port)).send_batch() == 2
    rows = {r.user_id: r for r in await outbox(engine)}
    assert rows["refused"].status == "failed"
    assert "550" in (rows["refused"].last_error or "")
    assert rows["fine"].status == "sent" and len(mailbox.messages) == 1
    assert await sender(engine, smtp_channel(port)).send_batch() == 0  # never retried


async def test_a_deferred_recipient_is_retried_later_then_given_up(
    engine: AsyncEngine, smtp: tuple[int, Mailbox]
) -> None:
    port, _ = smtp
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "busy", grants={DYGN: "full"})
        await session.commit()
    await queue_event(engine)
    later = sender(engine, smtp_channel(port), policy=RetryPolicy(3, base=60, cap=60))
    before = utcnow()
    await later.send_batch()
    [row] = await outbox(engine)
    assert row.status == "pending" and "451" in (row.last_error or "")
    assert before + timedelta(seconds=29) < row.next_attempt_at < before + timedelta(seconds=61)
    assert await later.send_batch() == 0  # not due yet
    an_hour_on = utcnow() + timedelta(hours=1)
    at_once = sender(engine, smtp_channel(port), clock=lambda: an_hour_on)
    for _ in range(3):
        await at_once.send_batch()
    [row] = await outbox(engine)
    assert row.status == "failed" and row.attempts == 3
    assert (row.last_error or "").startswith("gave up after 3 attempts")


async def test_a_deleted_user_gets_no_email(queued: AsyncEngine, tmp_path: Path) -> None:
    async with db.sessionmaker(queued)() as session:
        await store.delete_user(session=session, user_id="full")
        await session.commit()
    await sender(queued, FileChannel(tmp_path, "no-reply@example.se")).send_batch()
    rows = {r.user_id: r for r in await outbox(queued)}
    assert rows["full"].status == "cancelled" and rows["summary"].status == "sent"
    assert len(eml_files(tmp_path)) == 1


async def test_a_ticket_forward_is_sent_as_it_was_written(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with db.sessionmaker(engine)() as session:
        session.add(
            OutboxMessage(
                message_id="ticket.t1.sea",
                kind="ticket",
                ticket_id="t1",
                recipient="sea@tickets.example.se",
                subject="[S-1] Fråga om ersättning",
                body_text="Supportärende S-1\n",
                headers={"Reply-To": "asker@example.se"},
            )
        )
        await session.commit()
    await sender(engine, FileChannel(tmp_path, "no-reply@example.se")).send_batch()
    [email] = [read_eml(path) for path in eml_files(tmp_path)]
    assert email["Subject"] == "[S-1] Fråga om ersättning"
    assert email["Reply-To"] == "asker@example.se"
    assert email["Message-ID"] == "<ticket.t1.sea@example.se>"  # the sender's domain
    assert email.get_content() == "Supportärende S-1\n"


async def test_an_unconfigured_channel_waits_rather_than_fails(engine: AsyncEngine) -> None:
    async with db.sessionmaker(engine)() as session:
        session.add(
            OutboxMessage(
                message_id="ticket.t2.sea", kind="ticket", channel="http", recipient="https://x"
            )
        )
        await session.commit()
    await sender(engine, FileChannel(Path("/nonexistent"), "x@example.se")).send_batch()
    [row] = await outbox(engine)
    assert row.status == "pending" and "channel not configured: 'http'" in (row.last_error or "")


class Blocking:
    """A channel that holds its batch until released."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def deliver(self, messages: list[Claimed], files: Files | None = None) -> Results:
        self.started.set()
        await asyncio.wait_for(self.release.wait(), timeout=10)
        return {m.id: None for m in messages if m.id is not None}


async def test_a_row_being_sent_is_not_claimed_by_another_sender(queued: AsyncEngine) -> None:
    slow = Blocking()
    first = asyncio.create_task(sender(queued, slow).send_batch())
    await asyncio.wait_for(slow.started.wait(), timeout=10)
    assert await sender(queued, Blocking()).send_batch() == 0  # leased to the first
    slow.release.set()
    assert await asyncio.wait_for(first, timeout=10) == 2
    assert set(statuses(await outbox(queued)).values()) == {"sent"}


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [(1, 15, 30), (2, 30, 60), (3, 60, 120), (8, 1800, 3600), (30, 1800, 3600)],
)
def test_backoff_grows_exponentially_with_jitter_and_a_cap(
    attempts: int, low: float, high: float
) -> None:
    policy = RetryPolicy(max_attempts=50, base=30, cap=3600)
    waits = {backoff(attempts, policy, random.Random(seed)).total_seconds() for seed in range(20)}
    assert all(low <= wait <= high for wait in waits)
    assert len(waits) > 1  # jittered


async def test_the_email_goes_to_the_address_in_force_when_sent(
    queued: AsyncEngine, tmp_path: Path
) -> None:
    async with db.sessionmaker(queued)() as session:
        user = await session.get(User, "full")
        assert user is not None
        user.email = "new.address@kommun.example.se"
        await session.commit()
    await sender(queued, FileChannel(tmp_path, "no-reply@example.se")).send_batch()
    sent_to = {str(read_eml(path)["To"]) for path in eml_files(tmp_path)}
    assert sent_to == {"new.address@kommun.example.se", "summary@kommun.example.se"}
    rows = {r.user_id: r.recipient for r in await outbox(queued)}
    assert rows["full"] == "new.address@kommun.example.se"


async def test_a_kept_connection_the_server_dropped_is_replaced_without_a_retry_later(
    queued: AsyncEngine, pipelining: bool
) -> None:
    port = free_port()
    controller, _ = start_smtp(port, Mailbox(pipelining=pipelining))
    channel = SmtpChannel(
        SmtpConfig("127.0.0.1", port), "no-reply@example.se", timeout=5, connections=1
    )
    assert await sender(queued, channel).send_batch() == 2
    controller.stop()  # the relay restarts: the kept connection is dead
    controller, second = start_smtp(port, Mailbox(pipelining=pipelining))
    try:
        await queue_event(queued)
        assert await sender(queued, channel).send_batch() == 2
        assert len(second.messages) == 2
        assert set(statuses(await outbox(queued)).values()) == {"sent"}
    finally:
        await channel.aclose()
        controller.stop()


async def test_a_claim_reads_the_first_due_rows_in_index_order_even_with_stale_statistics(
    postgresql_only: AsyncEngine,
) -> None:
    """Statistics taken while the outbox was empty, then a payment run's burst of rows with
    one timestamp a batch: the claim still reads its 100 rows from the due index in order,
    not a sort of every due row (which took 21 ms a claim at 67,000 rows)."""
    async with postgresql_only.begin() as connection:
        await connection.exec_driver_sql("ANALYZE outbox")  # empty: it expects a few rows
        await connection.exec_driver_sql(
            "INSERT INTO outbox (message_id, kind, channel, recipient, headers, status, "
            "attempts, next_attempt_at, created_at) SELECT 'm' || n, 'notification', "
            "'email', 'a@b.se', '{}', 'pending', 0, "  # one timestamp per consumer batch
            "now() - interval '1 minute' + (n / 8000) * interval '1 ms', now() "
            "FROM generate_series(1, 67000) AS n"
        )
    now = utcnow()
    claim = leasing(now, now + timedelta(seconds=20), 100).compile(
        dialect=postgresql_only.dialect, compile_kwargs={"literal_binds": True}
    )
    async with postgresql_only.begin() as connection:
        await connection.exec_driver_sql(IN_INDEX_ORDER)
        plan = "\n".join(row[0] for row in await connection.exec_driver_sql(f"EXPLAIN {claim}"))
        await connection.exec_driver_sql(SORTING_AGAIN)  # for the claim's statement only
        setting = (await connection.exec_driver_sql("SHOW enable_sort")).scalar()
    assert "ix_outbox_due" in plan and "Sort" not in plan, plan
    assert setting == "on"


async def test_a_database_away_is_said_once_not_with_a_traceback_at_every_try(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens where the database should be: the sender keeps trying, as often as
    before, and says so once, as a warning without a traceback."""
    away = db.create_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/none")
    looping = asyncio.create_task(
        sender(away, FileChannel(tmp_path, "no-reply@example.se"), poll_interval=0.02)._loop()
    )
    with caplog.at_level(logging.INFO, logger="notifier.workers.sender"):
        await asyncio.sleep(0.5)
        looping.cancel()
        await asyncio.gather(looping, return_exceptions=True)
    await away.dispose()
    said = [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records]
    assert len(said) == 1, said
    [(level, message, traceback)] = said
    assert level == "WARNING" and "does not answer" in message and traceback is None
