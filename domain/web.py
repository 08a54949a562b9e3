"""The request dependencies every router shares, declared once as `Annotated` aliases.

The composition root builds each resource once and puts it on `app.state`; a dependency
here only reads it from the request's application. So `subscriptions`, `routing` and
`notifier` share one `SessionDep` without importing each other, and nothing is built
when a module is imported.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

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


def state_dependency(name: str, kind: type[T]) -> Callable[[Request], T]:
    """A dependency returning `app.state.<name>`, for a package's own shared parts."""

    def dependency(request: Request) -> T:
        return from_app_state(request, name, kind)

    return dependency


def gated(gate: Callable[..., Any], routes: APIRouter) -> APIRouter:
    """`routes`, served only to requests that `gate` (a dependency) lets through.

    Routers keep their routes private and hand them out only through this, so none can
    be included without its gate."""
    router = APIRouter(dependencies=[Depends(gate)])
    router.include_router(routes)
    return router
