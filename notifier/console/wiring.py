"""Puts the console on the app: its shared parts on `app.state.console`, its API under
/api/v1 and its pages under /drift. Called by the app factory."""

from fastapi import FastAPI

from notifier.compose import Services
from notifier.console import (
    announcements,
    api_content,
    api_mail,
    api_news,
    pages,
    pages_failures,
    pages_news,
    pages_templates,
)
from notifier.console.previews import Previews
from notifier.console.state import ConsoleWeb
from notifier.kinds.rendering import Renderer, build_environment
from notifier.workers.broker import Topology
from routing.web.deps import RoutingWeb
from routing.web.ratelimit import RateLimit


def add_console(app: FastAPI, services: Services, routing: RoutingWeb, topology: Topology) -> None:
    settings = services.settings
    example = f"{settings.base_url}/mina-notifieringar/exempel"
    renderer = Renderer(
        build_environment(),
        eservice_url=settings.eservice_url,
        unsubscribe_url=lambda user_id, event_type: example,
        preferences_url=lambda user_id: example,
    )
    app.state.console = ConsoleWeb(
        pages=routing.pages,
        sessions=services.sessions,
        is_admin_token=routing.is_admin_token,
        now=routing.now,
        amqp_url=settings.amqp_url,
        topology=topology,
        previews=Previews(renderer, settings, routing.desk.decision_for, example),
        publish=announcements.publisher(settings.amqp_url, topology),
        wake=services.wake,
        # In the store the ticket limit uses (memory, or the deployment's Redis).
        test_sends=RateLimit(settings.test_send_rate_limit, storage=routing.rate_limit.storage),
    )
    for api in (api_mail, api_content, api_news):
        app.include_router(api.router, prefix="/api/v1")
    for page in (pages, pages_failures, pages_templates, pages_news):
        app.include_router(page.router)
