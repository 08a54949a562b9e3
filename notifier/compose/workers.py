"""The workers of each role, and `notifier inbound`'s handler, assembled from the services:
the consumer, the sender with its kinds and channels, the digest clock."""

import asyncio
import functools
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from prometheus_client import start_http_server

from notifier.channels.base import Channel
from notifier.channels.email import email_channel, return_path
from notifier.channels.http import HttpChannel
from notifier.channels.return_path import ReturnPath
from notifier.channels.smtp import SmtpChannel
from notifier.compose.services import Services, Worker
from notifier.console import announcements
from notifier.inbound.bounces import Bounces
from notifier.inbound.questions import SupportQuestions
from notifier.inbound.replies import TicketReplies
from notifier.inbound.server import Inbound
from notifier.kinds import OutboxKind, Steps
from notifier.kinds.digest import DigestSteps
from notifier.kinds.forwards import ForwardSteps
from notifier.kinds.notifications import (
    NotificationSteps,
    placeholder_links,
    placeholder_preferences,
)
from notifier.kinds.rendering import Footer, Renderer
from notifier.outbox import digest_rows as digests
from notifier.outbox import suppressed, undeliverable
from notifier.outbox.claim import RetryPolicy
from notifier.settings import Settings
from notifier.web.preferences import PreferenceLinks
from notifier.web.unsubscribe import Unsubscribe
from notifier.workers.broker import Topology
from notifier.workers.consumer import Consumer
from notifier.workers.outcomes import OutcomePublisher
from notifier.workers.sender import Sender
from routing.decision.schemas import Destination
from routing.reading.words import default_words


def topology(settings: Settings) -> Topology:
    return Topology(
        exchange=settings.events_exchange,
        queue=settings.events_queue,
        dead_letter_queue=settings.dead_letter_queue,
        outcomes_exchange=settings.outcomes_exchange,
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
        OutboxKind.DIGEST: DigestSteps(renderer, preferences, ZoneInfo(settings.digest_zone)),
    }


def build_renderer(services: Services) -> Renderer:
    """The notification and digest renderer; per-recipient links are filled in later."""
    settings = services.settings
    kontaktcenter = services.rules.contacts[Destination.MV_KONTAKTCENTER_KOMMUN]
    return Renderer(
        services.templates.email,
        # An agency that promises never to mail login links names the e-service in words.
        eservice_url=settings.eservice_url if settings.email_login_links else None,
        unsubscribe_url=placeholder_links,
        preferences_url=placeholder_preferences,
        footer=Footer(
            contact_email=kontaktcenter.email, support_url=f"{settings.base_url}/support"
        ),
    )


def channels(services: Services) -> dict[str, Channel]:
    settings = services.settings
    # No redirects: a forward that moved is a configuration error, reported as permanent.
    client = httpx.AsyncClient(timeout=settings.forward_http_timeout, follow_redirects=False)
    services.resources.push_async_callback(client.aclose)
    email = email_channel(settings, return_path(settings, services.key))
    if isinstance(email, SmtpChannel):
        services.resources.push_async_callback(email.aclose)  # its kept connections
    outcomes = OutcomePublisher(settings.amqp_url, settings.outcomes_exchange)
    services.resources.push_async_callback(outcomes.aclose)
    return {"email": email, "http": HttpChannel(client), undeliverable.CHANNEL: outcomes}


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
        screen=suppressed.screen,
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


def announcement_clock(services: Services) -> Worker:
    """Sends the operators' scheduled announcements when due, by the services' clock."""
    settings = services.settings
    return functools.partial(
        announcements.run_scheduler,
        sessions=services.sessions,
        publish=announcements.publisher(settings.amqp_url, topology(settings)),
        clock=lambda: services.clock(),  # read at each round: tests move the clock
        interval=settings.announcement_poll_seconds,
    )


def build_inbound(services: Services) -> Inbound:
    """`notifier inbound`'s handler; NOTIFIER_REPLY_DOMAIN must be set."""
    settings = services.settings
    if not settings.reply_domain:
        raise ValueError("NOTIFIER_REPLY_DOMAIN is not set: there is no address to reply to")
    domain, own = settings.reply_domain.lower(), frozenset({settings.mail_from.lower()})
    bounces = Bounces(
        services.sessions,
        ReturnPath(services.key, domain),
        soft_limit=settings.soft_bounce_limit,
        soft_window=timedelta(days=settings.soft_bounce_days),
    )
    ticket_replies = TicketReplies(
        services.sessions, domain, own, services.key, settings.inbound_authserv_id
    )
    questions = SupportQuestions(
        services.sessions,
        settings,
        services.rules,
        default_words(),
        services.clock,
        services.key,
        ticket_replies.add,
    )
    return Inbound([ticket_replies, bounces, questions], hostname=domain)


async def run_workers(services: Services) -> None:
    """Run the roles' workers without HTTP (`notifier consume`, `notifier send`)."""
    if (port := services.settings.metrics_port) is not None:
        # A thread of prometheus_client's: scrapes never wait for the event loop.
        server, _ = start_http_server(
            port, addr=services.settings.metrics_host, registry=services.metrics.registry
        )
        services.resources.callback(server.shutdown)
    # A task group, not gather: stopped, it waits for every worker to finish its cleanup
    # (the sender gives back its rows) before the resources close; gather ends at the
    # first worker that is done cancelling.
    async with services.resources, asyncio.TaskGroup() as workers:
        for worker in services.workers:
            workers.create_task(worker())
