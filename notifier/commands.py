"""The pipeline's commands: `consume`, `send`, `digest [--now]`, `inbound`, `purge`,
`dead-letters list|replay`, `publish-sample` (docs/contracts.md §4). Registered on the `notifier`
parser by notifier.cli."""

import argparse
import asyncio
import contextlib
import logging
import sys
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.sqltypes import utcnow
from notifier import compose, db, runtime
from notifier.compose import Role, build_services
from notifier.helptexts import (
    CONSUME,
    DEAD,
    DIGEST,
    EXPLAIN,
    INBOUND,
    LIST,
    MOVE_QUEUE,
    PURGE,
    REPLAY,
    SAMPLE,
    SEND,
    command,
)
from notifier.inbound import server as inbound
from notifier.outbox import digest_rows as digests
from notifier.settings import Settings
from notifier.web import explain
from notifier.workers import dead_letter_queue_type, dead_letters, retention, sample


def add_commands(commands: "argparse._SubParsersAction[Any]") -> None:
    command(commands, "consume", _consume, "only the RabbitMQ consumer", CONSUME)
    command(commands, "send", _send, "only the outbox sender", SEND)
    digest = command(commands, "digest", _digest, "send the daily digests that are due", DIGEST)
    digest.add_argument("--now", action="store_true", help="every pending one, at once")
    _add_dead_letters(commands)
    command(commands, "purge", _purge, "remove personal data past NOTIFIER_RETENTION_DAYS", PURGE)
    replies = command(commands, "inbound", _inbound, "an SMTP server for mail coming back", INBOUND)
    replies.add_argument("--host", default="127.0.0.1", help="address to listen on")
    replies.add_argument("--port", type=int, default=2525, help="port to listen on")
    command(
        commands,
        "publish-sample",
        _publish_sample,
        "two sample users, one event of each type",
        SAMPLE,
    )
    explained = command(
        commands, "explain", _explain, "why a user did or did not get an event's email", EXPLAIN
    )
    explained.add_argument("user_id", metavar="USER_ID", help="the e-service's user id")
    explained.add_argument("event_id", metavar="EVENT_ID", help="the event's event_id (a UUID)")


def _add_dead_letters(commands: "argparse._SubParsersAction[Any]") -> None:
    dead = command(
        commands, "dead-letters", _no_action, "inspect or re-queue dead-lettered events", DEAD
    )
    actions = dead.add_subparsers(required=True, metavar="ACTION")
    listing = command(actions, "list", _list, "reason, event id and time of each dead letter", LIST)
    listing.add_argument("--limit", type=int, default=100, help="show at most this many")
    replay = command(
        actions, "replay", _replay, "publish dead letters to the exchange again", REPLAY
    )
    replay.add_argument("--dry-run", action="store_true", help="only list what would be replayed")
    replay.add_argument("--reason", help="only dead letters whose reason contains this text")
    replay.add_argument("--event-type", help="only dead letters of this event type (routing key)")
    command(
        actions,
        "migrate",
        _migrate_queue,
        "make an older classic dead-letter queue a replicated quorum queue",
        MOVE_QUEUE,
    )


def _workers(settings: Settings, role: Role) -> int:
    services = build_services(settings, roles=(role,))
    runtime.settle()
    loop = runtime.loop_factory()
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=loop) as runner:
        runner.run(runtime.until_terminated(compose.run_workers(services), services.stops))
    return 0


def _consume(settings: Settings, args: argparse.Namespace) -> int:
    return _workers(settings, Role.CONSUME)


def _send(settings: Settings, args: argparse.Namespace) -> int:
    return _workers(settings, Role.SEND)


def _digest(settings: Settings, args: argparse.Namespace) -> int:
    services = build_services(settings)
    print(asyncio.run(send_digests(services, now=args.now)))
    return 0


async def send_digests(services: compose.Services, *, now: bool) -> str:
    """Make the digests that are due (all held items with `now`), then send what the
    outbox has due, the digests among it."""
    async with services.resources:
        settings = services.settings
        found = digests.due(
            utcnow(), settings.digest_time, ZoneInfo(settings.digest_zone), force=now
        )
        if found is None:
            return f"Inga sammanfattningar förrän klockan {settings.digest_time:%H:%M}."
        day, cutoff = found
        made = await digests.create_digests(services.sessions, now=utcnow(), day=day, cutoff=cutoff)
        sender = compose.build_sender(services)
        while await sender.send_batch():
            pass
    return f"{made} nya sammanfattningar för {day.isoformat()}."


def _inbound(settings: Settings, args: argparse.Namespace) -> int:
    services = build_services(settings)
    try:
        handler = compose.build_inbound(services)
    except ValueError as exc:
        print(f"notifier inbound: {exc}", file=sys.stderr)
        return 2

    async def run() -> None:
        async with services.resources:
            await inbound.serve(
                handler, host=args.host, port=args.port, max_bytes=settings.inbound_max_bytes
            )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(runtime.until_terminated(run()))
    return 0


def _list(settings: Settings, args: argparse.Namespace) -> int:
    letters = asyncio.run(
        dead_letters.list_dead_letters(
            settings.amqp_url, compose.topology(settings), limit=args.limit
        )
    )
    if not letters:
        print("Inga meddelanden i kön för döda meddelanden.")
        return 0
    print(dead_letters.HEADING)
    for letter in letters:
        print(letter.line())
    return 0


def _no_action(settings: Settings, args: argparse.Namespace) -> int:
    return 2  # argparse requires an action first; never reached


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    bar = dead_letters.progress_bar(sys.stderr.write)
    select = dead_letters.matching(reason=args.reason, routing_key=args.event_type)
    letters = asyncio.run(
        dead_letters.replay(
            settings.amqp_url,
            compose.topology(settings),
            progress=bar,
            select=select,
            dry_run=args.dry_run,
        )
    )
    if args.dry_run:
        print(dead_letters.HEADING)
        for letter in letters:
            print(letter.line())
        print(f"{len(letters)} meddelanden skulle läggas tillbaka; inget ändrades.")
    else:
        print(f"{len(letters)} meddelanden lades tillbaka på {settings.events_exchange}.")
    return 0


def _migrate_queue(settings: Settings, args: argparse.Namespace) -> int:
    topology = compose.topology(settings)
    moved = asyncio.run(dead_letter_queue_type.migrate(settings.amqp_url, topology))
    print(f"{topology.dead_letter_queue} är en kvorumkö; {moved} meddelanden flyttades.")
    return 0


def _purge(settings: Settings, args: argparse.Namespace) -> int:
    older_than = timedelta(days=settings.retention_days)
    done = asyncio.run(retention.purge_database(settings.database_url, older_than=older_than))
    print(
        f"Personuppgifter äldre än {settings.retention_days} dagar borttagna: "
        f"{done.outbox} mejl, {done.events} händelser, {done.tickets} stängda ärenden "
        f"({done.attachments} bilagor)."
    )
    return 0


def _publish_sample(settings: Settings, args: argparse.Namespace) -> int:
    events = sample.sample_events()
    asyncio.run(_sample(settings, events))
    print(
        f"Publicerade {len(events)} händelser på {settings.events_exchange}. "
        f"Med `notifier serve` igång hamnar mejlen i {settings.mail_dir}/ inom några sekunder"
        + (" (eller i SMTP-servern)." if settings.smtp_url else ".")
    )
    return 0


async def _sample(settings: Settings, events: list[dict[str, Any]]) -> None:
    engine = db.create_engine(settings.database_url)
    # Alembic's progress lines are noise here (the schema is a step, not the result).
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        await db.migrate(engine)
        async with db.sessionmaker(engine)() as session:
            await sample.ensure_sample_users(session)
            await session.commit()
    finally:
        await engine.dispose()
    await sample.publish(settings.amqp_url, compose.topology(settings), events)


def _explain(settings: Settings, args: argparse.Namespace) -> int:
    found = asyncio.run(_explanation(settings, args.user_id, args.event_id))
    if found is None:
        print(f"notifier explain: {explain.USER_MISSING}", file=sys.stderr)
        return 1
    print(found.summary)
    for check in found.checks_now:
        print(f"  {'ja ' if check.passed else 'nej'}  {check.rule}: {check.detail}")
    return 0


async def _explanation(
    settings: Settings, user_id: str, event_id: str
) -> explain.Explanation | None:
    engine = db.create_engine(settings.database_url)
    try:
        async with db.sessionmaker(engine)() as session:
            return await explain.explain_delivery(session, user_id, event_id)
    finally:
        await engine.dispose()
