"""The FastAPI application factory: the composition root of the web process."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.sqltypes import utcnow
from notifier import db
from notifier.kinds.tickets import answer_hook, forward_hook
from notifier.settings import Settings
from notifier.web import explain, metrics, unsubscribe
from notifier.web.security import admin_dependency, admin_token_check, signing_key
from routing.decision.rules import RuleSet, default_rules, load_rules
from routing.ticketing.tickets import TicketCreatedHook
from routing.ticketing.triage import Desk
from routing.web import support as web
from routing.web.api import build_router as build_support_router
from routing.web.csrf import Csrf
from routing.web.pages import Pages
from routing.web.ratelimit import RateLimit
from routing.web.staff_api import build_admin_router as build_staff_router
from routing.web.staff_api import staff_dependency
from routing.web.triage_api import build_router as build_triage_api
from routing.web.triage_pages import build_router as build_triage_pages
from subscriptions import bulk
from subscriptions.api import build_router as build_admin_router

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]
Worker = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Services:
    """What the application's parts share, built once and handed down."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # Named readiness checks for /readyz: each raises when its dependency does not answer.
    checks: dict[str, Check] = field(default_factory=dict)
    # Long-running tasks started with the app (the consumer and sender under `serve`).
    workers: list[Worker] = field(default_factory=list)
    # The support routing rules, loaded once (NOTIFIER_ROUTING_RULES or the shipped file).
    rules: RuleSet = field(default_factory=default_rules)
    # What "now" is for routing decisions; tests fix it to a moment.
    clock: Callable[[], datetime] = utcnow


def build_services(settings: Settings, engine: AsyncEngine | None = None) -> Services:
    engine = engine or db.create_engine(settings.database_url)
    services = Services(settings=settings, engine=engine, sessions=db.sessionmaker(engine))
    services.checks["database"] = lambda: db.ping(engine)
    if settings.routing_rules is not None:
        services.rules = load_rules(settings.routing_rules)
    return services


def create_app(services: Services, *, migrate_on_start: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate_on_start:
            await db.migrate(services.engine)
        tasks = [asyncio.create_task(worker()) for worker in services.workers]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    app = FastAPI(
        title="Notifieringar och supportvägledning – Ansök om statlig ersättning",
        lifespan=lifespan,
    )
    app.state.services = services
    app.add_exception_handler(RequestValidationError, _validation_error)
    get_session = db.session_dependency(services.sessions)
    require_admin = admin_dependency(services.settings)
    forward = forward_hook(services.settings)
    key = signing_key(services.settings)  # may read ./var/secret_key: once
    app.include_router(
        build_admin_router(get_session=get_session, require_admin=require_admin),
        prefix="/api/v1",
    )
    app.include_router(
        bulk.build_router(get_session=get_session, require_admin=require_admin), prefix="/api/v1"
    )
    app.include_router(
        explain.build_router(get_session=get_session, require_admin=require_admin),
        prefix="/api/v1",
    )
    app.include_router(
        build_support_router(
            get_session=get_session,
            rules=services.rules,
            on_ticket_created=forward,
            now=lambda: services.clock(),
        ),
        prefix="/api/v1",
    )
    _add_web(app, services, get_session, key=key, forward=forward, require_admin=require_admin)
    _add_unsubscribe(app, services, get_session, key=key)
    _add_health(app, services)
    app.include_router(metrics.build_router(services.sessions))
    return app


def _add_web(
    app: FastAPI,
    services: Services,
    get_session: Any,
    *,
    key: bytes,
    forward: TicketCreatedHook,
    require_admin: Callable[..., None],
) -> None:
    """The support form and the triage desk: HTML from templates/web/."""
    settings = services.settings
    env = Environment(
        loader=PackageLoader("templates", "web"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    secure = settings.base_url.startswith("https://")
    pages = Pages(env, Csrf(key, secure=secure))
    rate_limit = RateLimit(settings.support_rate_limit)
    app.include_router(
        web.build_router(
            get_session=get_session,
            pages=pages,
            rules=services.rules,
            now=lambda: services.clock(),
            rate_limit=rate_limit,
            signing_key=key,
            on_ticket_created=forward,
        )
    )
    desk = Desk(
        rules=services.rules,
        now=lambda: services.clock(),
        on_ticket_created=forward,
        on_ticket_answered=answer_hook(settings),
    )
    require_staff = staff_dependency(
        get_session=get_session, is_admin_token=admin_token_check(settings)
    )
    app.include_router(
        build_staff_router(get_session=get_session, require_admin=require_admin),
        prefix="/api/v1",
    )
    app.include_router(
        build_triage_api(get_session=get_session, require_staff=require_staff, desk=desk),
        prefix="/api/v1",
    )
    app.include_router(
        build_triage_pages(
            get_session=get_session,
            pages=pages,
            desk=desk,
            signing_key=key,
            rate_limit=rate_limit,
            secure_cookies=secure,
        )
    )


def _add_unsubscribe(app: FastAPI, services: Services, get_session: Any, *, key: bytes) -> None:
    """RFC 8058 one-click unsubscribe, the links in every notification."""
    links = unsubscribe.Unsubscribe(key, services.settings.base_url)
    app.include_router(
        unsubscribe.build_router(
            get_session=get_session, unsubscribe=links, env=unsubscribe.page_environment()
        )
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with one message per field, without echoing the input back."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
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
