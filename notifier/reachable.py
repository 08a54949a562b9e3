"""Whether the database and the broker answer, checked before a command runs, so that a
missing one is one clear line on stderr and a non-zero exit instead of a traceback
(issue 14). Used only by notifier.cli.main."""

import asyncio
import logging
import re

import asyncpg
from aiormq.exceptions import AMQPConnectionError, AMQPError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from notifier import db
from notifier.settings import Settings
from notifier.workers import broker

EXIT_UNAVAILABLE = 69  # sysexits.h EX_UNAVAILABLE: a service the command needs is down
TIMEOUT = 10.0  # seconds: a firewalled port answers nothing at all

# What a command's own body raises when a service goes away after the checks passed.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, unknown host, timed out (TimeoutError is an OSError)
    AMQPConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.CannotConnectNowError,
    OperationalError,
    InterfaceError,
)
# While checking, any driver error means the service cannot be used.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, DBAPIError)
BROKER_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, AMQPError)

# The services each command needs before it can do anything. `serve` and `consume` wait
# for RabbitMQ by design (HTTP serves meanwhile; the consumer starts once it answers).
DATABASE, BROKER = "database", "broker"
NEEDS: dict[str, set[str]] = {
    "serve": {DATABASE},
    "api": {DATABASE},
    "migrate": {DATABASE},
    "consume": {DATABASE},
    "send": {DATABASE},
    "digest": {DATABASE},
    "inbound": {DATABASE},
    "publish-sample": {DATABASE, BROKER},
    "dead-letters": {BROKER},
    "explain": {DATABASE},
}


class Unreachable(Exception):
    """A service does not answer; the message is for the person at the terminal."""


def preflight(settings: Settings, command: str) -> None:
    needs = NEEDS.get(command, set())
    if DATABASE in needs:
        asyncio.run(_database(settings))
    if BROKER in needs:
        asyncio.run(_broker(settings))


async def _database(settings: Settings) -> None:
    try:
        engine = db.create_engine(settings.database_url)
        try:
            await asyncio.wait_for(db.ping(engine), TIMEOUT)
        finally:
            await engine.dispose()
    except DATABASE_ERRORS as error:
        raise Unreachable(_database_line(settings, error)) from None


async def _broker(settings: Settings) -> None:
    # aiormq and the factory log each failed attempt; the line below says it once, plainly.
    # Ready when any node of the cluster answers: the process would connect to that one.
    quiet = [logging.getLogger(name) for name in ("aiormq.connection", broker.__name__)]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    try:
        nodes = broker.Nodes(settings.amqp_url, node_timeout=TIMEOUT)
        connection = await nodes.connect_once(robust=False)
        await connection.close()
    except BROKER_ERRORS as error:
        raise Unreachable(_broker_line(settings, error)) from None
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)


def explain(settings: Settings, error: BaseException) -> str:
    """One line for a connection error raised after the checks passed."""
    if isinstance(error, AMQPConnectionError):
        return _broker_line(settings, error)
    if isinstance(error, OSError):
        return (
            f"en tjänst svarar inte ({_reason(error)}); kontrollera NOTIFIER_DATABASE_URL "
            f"({_database_url(settings)}) och NOTIFIER_AMQP_URL ({_amqp_url(settings)})."
        )
    return _database_line(settings, error)


def _database_line(settings: Settings, error: BaseException) -> str:
    return (
        f"databasen svarar inte på {_database_url(settings)} ({_reason(error)}); "
        "kontrollera NOTIFIER_DATABASE_URL och att databasen är igång."
    )


def _broker_line(settings: Settings, error: BaseException) -> str:
    return (
        f"RabbitMQ svarar inte på {_amqp_url(settings)} ({_reason(error)}); "
        "kontrollera NOTIFIER_AMQP_URL och att RabbitMQ är igång."
    )


def _reason(error: BaseException) -> str:
    """The driver's own words, first line only (SQLAlchemy appends a help link)."""
    text = str(getattr(error, "orig", None) or error) or type(error).__name__
    text = re.sub(r"^\([\w.]+\) ", "", text.strip().splitlines()[0])
    return f"{type(error).__name__}: {text}"


def _database_url(settings: Settings) -> str:
    try:
        return make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL: say so rather than echo a secret
        return "(ogiltig URL)"


def _amqp_url(settings: Settings) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", settings.amqp_url)
