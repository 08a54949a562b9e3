"""What `notifier COMMAND --help` says about each command: what it does, what it needs
and what it changes, and how --help lays it out. Kept apart from the parser so the
commands read as a list."""

import argparse
from typing import Any


def command(
    commands: "argparse._SubParsersAction[Any]", name: str, run: Any, text: str, about: str
) -> argparse.ArgumentParser:
    """A subcommand whose --help gives its description and every option's default."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=text, description=about, formatter_class=HELP_FORMAT
    )
    parser.set_defaults(run=run)
    return parser


class HELP_FORMAT(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults after each option's help, and descriptions kept as written."""


SERVE = """\
Run everything in one process: migrate the database to the newest schema, serve the
HTTP API and web pages, consume events from RabbitMQ and send email. What a single node
needs. Without RabbitMQ the HTTP part still serves; /readyz names "rabbitmq" until it
answers."""
API = """\
Serve only the HTTP API and the web pages (migrating the database first), so that it can
be scaled out as its own set of processes against one PostgreSQL and one RabbitMQ."""
MIGRATE = "Upgrade the database (NOTIFIER_DATABASE_URL) to the newest schema, then exit."
CONSUME = """\
Only the RabbitMQ consumer: store each event of NOTIFIER_EVENTS_QUEUE and queue its
emails in the outbox. Scale out as its own processes."""
SEND = """\
Only the outbox sender: deliver the queued emails and forwards (NOTIFIER_SMTP_URL, or
.eml files under NOTIFIER_MAIL_DIR), make the daily digests at NOTIFIER_DIGEST_TIME and
purge old personal data daily."""
DIGEST = """\
Make the daily digests that are due and send everything the outbox has due. `serve` and
`send` do it by themselves at NOTIFIER_DIGEST_TIME."""
PURGE = "Remove personal data older than NOTIFIER_RETENTION_DAYS days from the database."
INBOUND = """\
An SMTP server for mail coming back: a reply to a ticket's svar+ address joins that
ticket, a bounce to a bounce+ address is recorded, a mail to one of
NOTIFIER_SUPPORT_ADDRESSES becomes a routed ticket. Needs NOTIFIER_REPLY_DOMAIN."""
SAMPLE = """\
Create (or refresh) two sample users in the database, sample-anna (full permission) and
sample-erik (summary permission) in Stockholms kommun, and publish one event of each type
to the events exchange on RabbitMQ (NOTIFIER_AMQP_URL, which must answer). With `notifier
serve` running, their emails appear in NOTIFIER_MAIL_DIR (or at the SMTP relay) within
seconds. Migrates the database first."""
EXPLAIN = """\
Why USER_ID did or did not get the email of EVENT_ID: what happened to the event and the
email, then each matching rule checked against the user's subscriptions and grants as
they stand now. The same as GET /api/v1/users/{user_id}/events/{event_id}/explanation.
Exit status 1 when there is no such user."""
DEAD = "Inspect or re-queue what the consumer dead-lettered (NOTIFIER_DEAD_LETTER_QUEUE)."
LIST = "List the dead letters, oldest first, with reason, event id and time; all stay queued."
REPLAY = """\
Publish dead letters back to the events exchange under their original routing key, each
acknowledged only once the broker confirmed it. Without options EVERY dead letter is
re-published; --reason and --event-type choose some, --dry-run only lists them. Those not
chosen stay in the queue in their order."""
MOVE_QUEUE = """\
Make a dead-letter queue left classic by an older version a quorum queue, keeping every
dead letter: they are moved aside (confirmed), the classic queue deleted, the quorum queue
declared and the letters moved back. Stop every `consume` (and `serve`) first; a run
stopped halfway is finished by running it again (docs/operations.md)."""
