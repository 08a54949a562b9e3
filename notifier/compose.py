"""The one composition root: settings → engine and sessions → channels and kinds → the
workers of the roles asked for. The FastAPI app (notifier.app.create_app) is built
from what this returns.

Every role (`serve`, `api`, `consume`, `send`) makes one call to `build_services`. What
must be closed (the engine this built, the HTTP client of forwards) is owned by one
AsyncExitStack, closed when the app's lifespan or `run_workers` ends.
"""

import asyncio
import functools
from collections.abc import Awaitable, Callable, Collection, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier import db
from notifier.channels.base import Transport
from notifier.channels.email import email_transport
from notifier.channels.http import HttpTransport
from notifier.channels.smtp import SmtpTransport
from notifier.inbound.server import Inbound
from notifier.kinds import OutboxKind, Steps
from notifier.kinds.digest import DigestSteps
from notifier.kinds.forwards import ForwardSteps
from notifier.kinds.notifications import (
    NotificationSteps,
    placeholder_links,
    placeholder_preferences,
)
from notifier.kinds.rendering import Footer, Renderer, build_environment
from notifier.outbox import digest_rows as digests
from notifier.outbox.claim import RetryPolicy
from notifier.settings import Settings
from notifier.web.preferences import PreferenceLinks
from notifier.web.security import signing_key
from notifier.web.unsubscribe import Unsubscribe
from notifier.workers import retention
from notifier.workers.broker import Topology
from notifier.workers.consumer import Consumer
from notifier.workers.sender import Sender
from notifier.workers.telemetry import PipelineMetrics
from routing.decision.rules import RuleSet, default_rules, load_rules
from routing.decision.schemas import Destination

Check = Callable[[], Awaitable[None]]
Worker = Callable[[], Coroutine[Any, Any, None]]


class Role(StrEnum):
    CONSUME = "consume"
    SEND = "send"


@dataclass
class Services:
    """What the application's parts share, built once and handed down."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # Signs unsubscribe links and staff sessions; may be read from ./var/secret_key: once.
    key: bytes
    rules: RuleSet
    # Closes what was opened for these services, last opened first.
    resources: AsyncExitStack = field(default_factory=AsyncExitStack)
    # Named readiness checks for /readyz: each raises when its dependency does not answer.
    checks: dict[str, Check] = field(default_factory=dict)
    # Long-running tasks of the roles asked for (the consumer and sender under `serve`).
    workers: list[Worker] = field(default_factory=list)
    # What "now" is for routing decisions; tests fix it to a moment.
    clock: Callable[[], datetime] = utcnow
    # Set when new outbox rows are committed: a sender in this process starts at once.
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # This process's consumer and sender figures (/metrics, or NOTIFIER_METRICS_PORT).
    metrics: PipelineMetrics = field(default_factory=PipelineMetrics)


def build_services(
    settings: Settings, engine: AsyncEngine | None = None, *, roles: Collection[Role] = ()
) -> Services:
    resources = AsyncExitStack()
    if engine is None:
        engine = db.create_engine(settings.database_url)
        resources.push_async_callback(engine.dispose)
    rules = load_rules(settings.routing_rules) if settings.routing_rules else default_rules()
    services = Services(
        settings=settings,
        engine=engine,
        sessions=db.sessionmaker(engine),
        key=signing_key(settings),
        rules=rules,
        resources=resources,
    )
    services.checks["database"] = lambda: db.ping(engine)
    if Role.CONSUME in roles:
        consumer = build_consumer(services)
        services.workers.append(consumer.run)
        # /readyz answers 503 naming "rabbitmq" until the broker answers.
        services.checks["rabbitmq"] = consumer.check
    if Role.SEND in roles:
        services.workers.append(build_sender(services).run)
        # Every sender may make the day's digests: their unique message ids keep it once.
        services.workers.append(digest_clock(services))
        services.workers.append(
            functools.partial(
                retention.run_daily,
                services.sessions,
                older_than=timedelta(days=settings.retention_days),
            )
        )
    return services


def topology(settings: Settings) -> Topology:
    return Topology(
        exchange=settings.events_exchange,
        queue=settings.events_queue,
        dead_letter_queue=settings.dead_letter_queue,
    )


def build_consumer(services: Services) -> Consumer:
    settings = services.settings
    return Consumer(
        amqp_url=settings.amqp_url,
        engine=services.engine,
        sessions=services.sessions,
        topology=topology(settings),
        batch_size=settings.consumer_batch_size,
        batch_wait=settings.consumer_batch_ms / 1000,
        prefetch=settings.consumer_prefetch,
        on_stored=services.wake.set,
        metrics=services.metrics,
    )


def unsubscribe_links(services: Services) -> Unsubscribe:
    return Unsubscribe(services.key, services.settings.base_url)


def kinds(services: Services) -> dict[str, Steps]:
    """Each outbox kind's steps; a kind not named here is queued ready to deliver."""
    settings = services.settings
    renderer = build_renderer(services)
    preferences = PreferenceLinks(services.key, settings.base_url).url
    return {
        OutboxKind.NOTIFICATION: NotificationSteps(
            renderer, unsubscribe_links(services).url, preferences
        ),
        OutboxKind.TICKET: ForwardSteps(),
        OutboxKind.DIGEST: DigestSteps(renderer, preferences),
    }


def build_renderer(services: Services) -> Renderer:
    """The notification and digest renderer; per-recipient links are filled in later."""
    settings = services.settings
    kontaktcenter = services.rules.contacts[Destination.MV_KONTAKTCENTER_KOMMUN]
    return Renderer(
        build_environment(),
        # An agency that promises never to mail login links names the e-service in words.
        eservice_url=settings.eservice_url if settings.email_login_links else None,
        unsubscribe_url=placeholder_links,
        preferences_url=placeholder_preferences,
        footer=Footer(
            contact_email=kontaktcenter.email, support_url=f"{settings.base_url}/support"
        ),
    )


def channels(services: Services) -> dict[str, Transport]:
    settings = services.settings
    # No redirects: a forward that moved is a configuration error, reported as permanent.
    client = httpx.AsyncClient(timeout=settings.forward_http_timeout, follow_redirects=False)
    services.resources.push_async_callback(client.aclose)
    email = email_transport(settings)
    if isinstance(email, SmtpTransport):
        services.resources.push_async_callback(email.aclose)  # its kept connections
    return {"email": email, "http": HttpTransport(client)}


def build_sender(services: Services) -> Sender:
    settings = services.settings
    return Sender(
        sessions=services.sessions,
        channels=channels(services),
        kinds=kinds(services),
        policy=RetryPolicy(
            max_attempts=settings.send_max_attempts,
            base=settings.send_backoff_seconds,
            cap=settings.send_backoff_max_seconds,
        ),
        batch_size=settings.send_batch_size,
        # Two: one batch with the mail server while the other is claimed or recorded.
        in_flight=2 if services.engine.dialect.name == "postgresql" else 1,
        lease=timedelta(seconds=settings.send_lease_seconds),
        poll_interval=settings.send_poll_seconds,
        wake=services.wake,
        metrics=services.metrics,
    )


def digest_clock(services: Services) -> Worker:
    """Makes the daily digests at the configured local time; the sender sends them."""
    settings = services.settings
    return functools.partial(
        digests.run_daily,
        services.sessions,
        at=settings.digest_time,
        zone=ZoneInfo(settings.digest_zone),
        on_created=services.wake.set,
    )


def build_inbound(services: Services) -> Inbound:
    """`notifier inbound`'s handler; NOTIFIER_REPLY_DOMAIN must be set."""
    settings = services.settings
    if not settings.reply_domain:
        raise ValueError("NOTIFIER_REPLY_DOMAIN is not set: there is no address to reply to")
    own = {settings.mail_from.lower()}
    return Inbound(services.sessions, settings.reply_domain.lower(), frozenset(own))


async def run_workers(services: Services) -> None:
    """Run the roles' workers without HTTP (`notifier consume`, `notifier send`)."""
    if (port := services.settings.metrics_port) is not None:
        # A thread of prometheus_client's: scrapes never wait for the event loop.
        server, _ = start_http_server(
            port, addr=services.settings.metrics_host, registry=services.metrics.registry
        )
        services.resources.callback(server.shutdown)
    async with services.resources:
        await asyncio.gather(*(worker() for worker in services.workers))
