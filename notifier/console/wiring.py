"""Puts the console on the app: its shared parts on `app.state.console`, its API under
/api/v1 and its pages under /drift. Called by the app factory."""

import asyncio

from fastapi import FastAPI
from jinja2 import Environment
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifier.console import (
    announcements,
    api_content,
    api_mail,
    api_news,
    api_suppressions,
    pages,
    pages_failures,
    pages_news,
    pages_suppressions,
    pages_templates,
)
from notifier.console.previews import Previews
from notifier.console.state import ConsoleWeb
from notifier.kinds.rendering import Renderer
from notifier.settings import Settings
from notifier.workers.broker import Topology
from routing.web.deps import RoutingWeb
from routing.web.ratelimit import RateLimit


def add_console(
    app: FastAPI,
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    wake: asyncio.Event,
    routing: RoutingWeb,
    topology: Topology,
    email_templates: Environment,
) -> None:
    """The console over what the composition root built (it never imports the root)."""
    example = f"{settings.base_url}/mina-notifieringar/exempel"
    renderer = Renderer(
        email_templates,
        eservice_url=settings.eservice_url,
        unsubscribe_url=lambda user_id, event_type: example,
        preferences_url=lambda user_id: example,
    )
    app.state.console = ConsoleWeb(
        pages=routing.pages,
        sessions=sessions,
        is_admin_token=routing.is_admin_token,
        now=routing.now,
        amqp_url=settings.amqp_url,
        topology=topology,
        previews=Previews(renderer, settings, routing.desk.decision_for, example),
        publish=announcements.publisher(settings.amqp_url, topology),
        wake=wake,
        # In the store the ticket limit uses (memory, or the deployment's Redis).
        test_sends=RateLimit(settings.test_send_rate_limit, storage=routing.rate_limit.storage),
    )
    for api in (api_mail, api_content, api_news, api_suppressions):
        app.include_router(api.router, prefix="/api/v1")
    for page in (pages, pages_failures, pages_suppressions, pages_templates, pages_news):
        app.include_router(page.router)
