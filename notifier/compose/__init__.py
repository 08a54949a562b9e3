"""The one composition root: settings → engine and sessions → templates, channels and kinds
→ the workers of the roles asked for (notifier.compose.workers) and the web's parts
(notifier.compose.web). The FastAPI app (notifier.app.create_app) is built from what this
returns; nothing else builds an engine, a Jinja2 environment, a hook or a limit.

Every role (`serve`, `api`, `consume`, `send`) makes one call to `build_services`. What
must be closed (the engine this built, the HTTP client of forwards) is owned by one
AsyncExitStack, closed when the app's lifespan or `run_workers` ends.
"""

import functools
from collections.abc import Collection
from contextlib import AsyncExitStack
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from notifier import db
from notifier.compose.services import Role, Services
from notifier.compose.web import build_web
from notifier.compose.workers import (
    announcement_clock,
    build_consumer,
    build_inbound,
    build_renderer,
    build_sender,
    channels,
    digest_clock,
    kinds,
    run_workers,
    topology,
    unsubscribe_links,
)
from notifier.settings import Settings
from notifier.templating import build_templates
from notifier.web.security import signing_key
from notifier.workers import retention
from notifier.workers.outcomes import declare_at_start
from routing.decision.rules import default_rules, load_rules

__all__ = [
    "Role",
    "Services",
    "build_consumer",
    "build_inbound",
    "build_renderer",
    "build_sender",
    "build_services",
    "build_web",
    "channels",
    "kinds",
    "run_workers",
    "topology",
    "unsubscribe_links",
]


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
        templates=build_templates(),
        resources=resources,
    )
    services.checks["database"] = lambda: db.ping(engine)
    if Role.CONSUME in roles:
        consumer = build_consumer(services)
        services.workers.append(consumer.run)
        # /readyz answers 503 naming "rabbitmq" until the broker answers.
        services.checks["rabbitmq"] = consumer.check
    if Role.SEND in roles:
        sender = build_sender(services)
        services.workers.append(sender.run)
        services.stops.append(sender.stop)
        services.workers.append(
            functools.partial(declare_at_start, settings.amqp_url, settings.outcomes_exchange)
        )
        # Every sender may make the day's digests: their unique message ids keep it once.
        services.workers.append(digest_clock(services))
        services.workers.append(announcement_clock(services))
        services.workers.append(
            functools.partial(
                retention.run_daily,
                services.sessions,
                older_than=timedelta(days=settings.retention_days),
            )
        )
    return services
