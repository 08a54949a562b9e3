"""The FastAPI application factory: the web layer over the services that
notifier.compose built."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from domain.validation import swedish
from domain.web import refusals
from notifier import db, runtime
from notifier.compose import Services, build_web, topology
from notifier.console.wiring import add_console
from notifier.web import explain, metrics, preferences, unsubscribe
from notifier.web.hardening import close_storage, harden
from notifier.web.methods import add_method_answers
from notifier.web.security import admin_dependency
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
from routing.web.ratelimit import RateLimit
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
                await runtime.ended(tasks, services.stops)
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
    web = build_web(services)
    app.include_router(users_api.build_router(require_admin=require_admin), prefix="/api/v1")
    app.include_router(bulk.build_router(require_admin=require_admin), prefix="/api/v1")
    app.include_router(explain.build_router(require_admin=require_admin), prefix="/api/v1")
    app.state.routing = web.routing
    app.include_router(support_api.router, prefix="/api/v1")
    _add_web(app, require_admin=require_admin)
    add_console(
        app,
        settings=services.settings,
        sessions=services.sessions,
        wake=services.wake,
        routing=app.state.routing,
        topology=topology(services.settings),
        email_templates=services.templates.email,
    )
    app.state.unsubscribe = web.unsubscribe
    app.include_router(unsubscribe.router)
    app.state.preferences = web.preferences
    app.include_router(preferences.router)
    _add_health(app, services, app.state.routing.rate_limit)
    app.include_router(metrics.router)
    return app


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


def _add_health(app: FastAPI, services: Services, rate_limit: RateLimit) -> None:
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
        status = "ready" if ready else "unavailable"
        # The limits fail open to each process's own count: degraded, still serving.
        if (store := await rate_limit.store_state()) is not None:
            checks["rate_limit_store"] = store
            status = "degraded" if ready and store != "ok" else status
        return JSONResponse({"status": status, "checks": checks}, status_code=200 if ready else 503)
