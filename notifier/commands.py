"""The pipeline's commands: `consume`, `send`, `digest [--now]`, `inbound`, `purge`,
`dead-letters list|replay`, `publish-sample` (CONTRACTS §4). Registered on the `notifier`
parser by notifier.cli."""

import argparse
import asyncio
import contextlib
import sys
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.sqltypes import utcnow
from notifier import compose, db, runtime
from notifier.compose import Role, build_services
from notifier.inbound import server as inbound
from notifier.outbox import digest_rows as digests
from notifier.settings import Settings
from notifier.workers import dead_letter_queue_type, dead_letters, retention, sample


def add_commands(commands: "argparse._SubParsersAction[Any]") -> None:
    commands.add_parser("consume", help="only the RabbitMQ consumer").set_defaults(run=_consume)
    commands.add_parser("send", help="only the outbox sender").set_defaults(run=_send)
    digest = commands.add_parser("digest", help="make and send the daily digests that are due")
    digest.add_argument("--now", action="store_true", help="every pending one, at once")
    digest.set_defaults(run=_digest)
    dead = commands.add_parser("dead-letters", help="inspect or re-queue dead-lettered events")
    actions = dead.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="reason, event id and time of each dead letter")
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(run=_list)
    actions.add_parser("replay", help="publish them to the exchange again").set_defaults(
        run=_replay
    )
    actions.add_parser(
        "migrate", help="make an older classic dead-letter queue a replicated quorum queue"
    ).set_defaults(run=_migrate_queue)
    purge = commands.add_parser("purge", help="remove personal data past NOTIFIER_RETENTION_DAYS")
    purge.set_defaults(run=_purge)
    replies = commands.add_parser("inbound", help="an SMTP server for replies to tickets")
    replies.add_argument("--host", default="127.0.0.1")
    replies.add_argument("--port", type=int, default=2525)
    replies.set_defaults(run=_inbound)
    commands.add_parser(
        "publish-sample", help="sample users and one event of each type, to see emails"
    ).set_defaults(run=_publish_sample)


def _workers(settings: Settings, role: Role) -> int:
    services = build_services(settings, roles=(role,))
    runtime.settle()
    loop = runtime.loop_factory()
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=loop) as runner:
        runner.run(compose.run_workers(services))
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
        asyncio.run(run())
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
    print(f"{'tid':<26} {'händelse-id':<36}  orsak")
    for letter in letters:
        print(f"{letter.at:<26} {letter.event_id:<36}  {letter.reason}")
    return 0


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    bar = dead_letters.progress_bar(sys.stderr.write)
    count = asyncio.run(
        dead_letters.replay(settings.amqp_url, compose.topology(settings), progress=bar)
    )
    print(f"{count} meddelanden lades tillbaka på {settings.events_exchange}.")
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
    try:
        await db.migrate(engine)
        async with db.sessionmaker(engine)() as session:
            await sample.ensure_sample_users(session)
            await session.commit()
    finally:
        await engine.dispose()
    await sample.publish(settings.amqp_url, compose.topology(settings), events)
