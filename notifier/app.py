"""The FastAPI application factory: the web layer over the services that
notifier.compose built."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from domain.validation import swedish
from domain.web import refusals
from notifier import db
from notifier.compose import Services
from notifier.kinds.tickets import answer_hook, forward_hook, opened_hook
from notifier.web import explain, metrics, preferences, unsubscribe
from notifier.web.hardening import close_storage, harden, ticket_rate_limit
from notifier.web.methods import add_method_answers
from notifier.web.security import admin_dependency, admin_token_check
from routing.ticketing.tickets import TicketCreatedHook
from routing.ticketing.triage import Desk
from routing.web import (
    answers_api,
    staff_api,
    support,
    support_ticket,
    triage_api,
    triage_login,
    triage_pages,
)
from routing.web import api as support_api
from routing.web.csrf import Csrf
from routing.web.deps import RoutingWeb
from routing.web.pages import Pages
from subscriptions import api as users_api
from subscriptions import bulk

log = logging.getLogger(__name__)


def create_app(services: Services, *, migrate_on_start: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate_on_start:
            await db.migrate(services.engine)
        async with services.resources:
            tasks = [asyncio.create_task(worker()) for worker in services.workers]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await close_storage(app.state.routing.rate_limit.storage)

    app = FastAPI(
        title="Notifieringar och supportvägledning – Ansök om statlig ersättning",
        lifespan=lifespan,
        # Any URL with a control character in it is refused before routing (requestguard).
        responses=refusals(400),
    )
    app.state.services = services
    app.state.sessions = services.sessions  # read by domain.web.SessionDep
    harden(app, services.settings)
    app.add_exception_handler(RequestValidationError, _validation_error)
    add_method_answers(app)
    require_admin = admin_dependency(services.settings)
    forward = forward_hook(services.settings)
    key = services.key
    app.include_router(users_api.build_router(require_admin=require_admin), prefix="/api/v1")
    app.include_router(bulk.build_router(require_admin=require_admin), prefix="/api/v1")
    app.include_router(explain.build_router(require_admin=require_admin), prefix="/api/v1")
    app.state.routing = _routing_web(services, key=key, forward=forward)
    app.include_router(support_api.router, prefix="/api/v1")
    _add_web(app, require_admin=require_admin)
    app.state.unsubscribe = unsubscribe.UnsubscribePages(
        unsubscribe.Unsubscribe(key, services.settings.base_url)
    )
    app.include_router(unsubscribe.router)
    links = preferences.PreferenceLinks(key, services.settings.base_url)
    app.state.preferences = preferences.PreferencePages(links, app.state.routing.pages)
    app.include_router(preferences.router)
    _add_health(app, services)
    app.include_router(metrics.router)
    return app


def _routing_web(services: Services, *, key: bytes, forward: TicketCreatedHook) -> RoutingWeb:
    """What the support form, the support API and the triage desk share."""
    settings = services.settings
    env = Environment(
        loader=PackageLoader("templates", "web"),
        auto_reload=False,
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    secure = settings.base_url.startswith("https://")

    def now() -> datetime:
        return services.clock()  # read at each call: tests fix the clock after start

    return RoutingWeb(
        rules=services.rules,
        now=now,
        pages=Pages(env, Csrf(key, secure=secure)),
        desk=Desk(
            rules=services.rules,
            now=now,
            on_ticket_created=forward,
            on_ticket_answered=answer_hook(settings),
            stale_after_days=settings.desk_stale_working_days,
        ),
        # New tickets per client, from the form and the JSON API alike.
        rate_limit=ticket_rate_limit(settings),
        signing_key=key,
        is_admin_token=admin_token_check(settings),
        on_ticket_created=opened_hook(settings),  # a reroute (the desk's) sends no receipt
        secure_cookies=secure,
    )


def _add_web(app: FastAPI, *, require_admin: Callable[..., None]) -> None:
    """The support form and the triage desk: HTML from templates/web/, and the desk's API."""
    app.include_router(support.router)
    app.include_router(support_ticket.router)
    app.include_router(staff_api.build_admin_router(require_admin=require_admin), prefix="/api/v1")
    app.include_router(triage_api.router, prefix="/api/v1")
    app.include_router(
        answers_api.build_admin_router(require_admin=require_admin), prefix="/api/v1"
    )
    app.include_router(answers_api.staff_router, prefix="/api/v1")
    app.include_router(triage_login.router)
    app.include_router(triage_pages.router)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with one Swedish message per field, without echoing the input back."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error["loc"]), "msg": swedish(error), "type": error["type"]}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


def _add_health(app: FastAPI, services: Services) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        results = await asyncio.gather(
            *(asyncio.wait_for(check(), timeout=3) for check in services.checks.values()),
            return_exceptions=True,
        )
        checks = {
            name: "ok" if result is None else f"unavailable: {type(result).__name__}"
            for name, result in zip(services.checks, results, strict=True)
        }
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )
