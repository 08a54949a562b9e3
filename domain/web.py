"""The request dependencies every router shares, declared once as `Annotated` aliases.

The composition root builds each resource once and puts it on `app.state`; a dependency
here only reads it from the request's application. So `subscriptions`, `routing` and
`notifier` share one `SessionDep` without importing each other, and nothing is built
when a module is imported.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.text import SINGLE_LINE_PATTERN

T = TypeVar("T")

SESSIONS = "sessions"  # app.state.sessions: the async_sessionmaker of the process


def from_app_state(request: Request, name: str, kind: type[T]) -> T:
    """`app.state.<name>`, which must be a `kind`: a missing one is a wiring mistake."""
    value = getattr(request.app.state, name, None)
    if not isinstance(value, kind):
        raise RuntimeError(f"the composition root puts a {kind.__name__} on app.state.{name}")
    return value


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; the handler commits, anything else rolls back."""
    sessions: async_sessionmaker[AsyncSession] = from_app_state(
        request, SESSIONS, async_sessionmaker
    )
    async with sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
# A path segment as the schema declares it: no control characters (requestguard refuses
# them before routing), so a schema-valid URL is one the service reads.
PathText = Annotated[str, Path(pattern=SINGLE_LINE_PATTERN)]


def state_dependency(name: str, kind: type[T]) -> Callable[[Request], T]:
    """A dependency returning `app.state.<name>`, for a package's own shared parts."""

    def dependency(request: Request) -> T:
        return from_app_state(request, name, kind)

    return dependency


def gated(gate: Callable[..., Any], routes: APIRouter) -> APIRouter:
    """`routes`, served only to requests that `gate` (a dependency) lets through.

    Routers keep their routes private and hand them out only through this, so none can
    be included without its gate."""
    router = APIRouter(dependencies=[Depends(gate)], responses=refusals(401))
    router.include_router(routes)
    return router


class Problem(BaseModel):
    """Every refusal but a 422 (`{"detail": "…"}`, one Swedish sentence)."""

    detail: str


_MEANINGS = {
    400: "Adressen eller kroppen kan inte läsas (styrtecken, trasig JSON).",
    401: "Saknar eller fel nyckel (Authorization: Bearer …).",
    403: "Nyckeln gäller, men inte för detta.",
    404: "Finns inte.",
    409: "Går inte i ärendets nuvarande läge.",
    410: "Länken har gått ut.",
    413: "Kroppen är för stor.",
    415: "Fel innehållstyp.",
    429: "För många förfrågningar; försök igen efter Retry-After sekunder.",
    503: "En tjänst som behövs (RabbitMQ) svarar inte just nu; försök igen om en stund.",
}


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of the refusals a router gives, for `APIRouter(responses=…)`:
    declared, so that a client (and schemathesis) knows every answer it can get."""
    return {code: {"model": Problem, "description": _MEANINGS[code]} for code in codes}


def page_refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """As `refusals`, for pages: the refusal is a page in Swedish, or JSON where a guard in
    front of every route (control characters, body size) refused before the page's route."""
    json = {"schema": Problem.model_json_schema()}
    return {
        code: {
            "description": _MEANINGS[code],
            "content": {"text/html": {}, "application/json": json},
        }
        for code in codes
    }
