"""The dependencies the routers share: domain.web's session and gate, and the pages'
`Refused`/`PageRoute`, on small apps of their own."""

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.web import SESSIONS, SessionDep, gated
from notifier import db
from routing.web.pages import PageRoute, Refused


async def call(app: FastAPI, method: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.request(method, path)


def session_app() -> FastAPI:
    app = FastAPI()
    seen: list[int] = []

    async def also(session: SessionDep) -> int:
        return id(session)

    @app.get("/")
    async def handler(session: SessionDep, other: Annotated[int, Depends(also)]) -> list[int]:
        seen.extend([id(session), other])
        return seen

    return app


async def test_session_dep_gives_one_request_one_session(engine: AsyncEngine) -> None:
    app = session_app()
    setattr(app.state, SESSIONS, db.sessionmaker(engine))
    first, second = (await call(app, "GET", "/")).json()
    assert first == second


async def test_session_dep_without_the_composition_roots_sessions_names_the_mistake() -> None:
    with pytest.raises(RuntimeError, match=r"app\.state\.sessions"):
        await call(session_app(), "GET", "/")


def gate(request: Request) -> None:
    if request.headers.get("x-pass") != "yes":
        raise HTTPException(401, "no")


async def test_gated_routes_answer_only_past_the_gate() -> None:
    routes = APIRouter()

    @routes.get("/secret")
    async def secret() -> str:
        return "inside"

    app = FastAPI()
    app.include_router(gated(gate, routes))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/secret")).status_code == 401
        passed = await client.get("/secret", headers={"x-pass": "yes"})
    assert passed.json() == "inside"


async def test_a_page_refused_in_a_dependency_is_answered_with_its_page() -> None:
    def refuse() -> None:
        raise Refused(PlainTextResponse("log in first", status_code=401))

    router = APIRouter(route_class=PageRoute)

    @router.get("/page")
    async def page(_: Annotated[None, Depends(refuse)]) -> Response:
        raise AssertionError("the handler runs only past the dependency")

    @router.get("/late")
    async def late() -> Response:
        raise Refused(PlainTextResponse("gone", status_code=404))

    app = FastAPI()
    app.include_router(router)
    refused = await call(app, "GET", "/page")
    assert (refused.status_code, refused.text) == (401, "log in first")
    assert (await call(app, "GET", "/late")).status_code == 404
