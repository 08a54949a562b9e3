"""Composing the notification pipeline from the shared Services: the consumer, the sender
and what they need, built once and registered as workers and readiness checks."""

import asyncio
import random
from collections.abc import Callable, Mapping
from datetime import timedelta

from notifier.channels.base import Transport
from notifier.channels.email import email_transport
from notifier.kinds.rendering import Renderer, build_environment
from notifier.pipeline.consumer import Consumer, Topology
from notifier.pipeline.sender import RetryPolicy, Sender
from notifier.settings import Settings
from notifier.web.app import Services
from notifier.web.security import signing_key
from notifier.web.unsubscribe import Unsubscribe

# Given the email transport, the whole channel → transport map (ticket forwarding wraps
# email and adds "http").
ChannelsFactory = Callable[[Transport], Mapping[str, Transport]]


def unsubscribe_links(settings: Settings) -> Unsubscribe:
    return Unsubscribe(signing_key(settings), settings.base_url)


def build_renderer(settings: Settings) -> Renderer:
    links = unsubscribe_links(settings)
    return Renderer(
        build_environment(), eservice_url=settings.eservice_url, unsubscribe_url=links.url
    )


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
    )


def build_sender(
    services: Services,
    transports: Mapping[str, Transport] | None = None,
    *,
    rng: random.Random | None = None,
) -> Sender:
    settings = services.settings
    return Sender(
        sessions=services.sessions,
        transports=transports or {"email": email_transport(settings)},
        renderer=build_renderer(settings),
        policy=RetryPolicy(
            max_attempts=settings.send_max_attempts,
            base=settings.send_backoff_seconds,
            cap=settings.send_backoff_max_seconds,
        ),
        batch_size=settings.send_batch_size,
        lease=timedelta(seconds=settings.send_lease_seconds),
        poll_interval=settings.send_poll_seconds,
        rng=rng,
    )


def add_workers(
    services: Services,
    *,
    consume: bool = True,
    send: bool = True,
    channels: ChannelsFactory | None = None,
) -> None:
    """Register the consumer and/or the sender to run with the app (or `run_workers`)."""
    if consume:
        consumer = build_consumer(services)
        services.workers.append(consumer.run)
        # /readyz answers 503 naming "rabbitmq" until the broker answers.
        services.checks["rabbitmq"] = consumer.check
    if send:
        email = email_transport(services.settings)
        transports = channels(email) if channels else {"email": email}
        services.workers.append(build_sender(services, transports).run)


async def run_workers(services: Services) -> None:
    """Run the registered workers without HTTP (`notifier consume`, `notifier send`)."""
    try:
        await asyncio.gather(*(worker() for worker in services.workers))
    finally:
        await services.engine.dispose()
