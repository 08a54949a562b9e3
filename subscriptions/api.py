"""The admin API (docs/contracts.md §3) that the e-service uses to mirror its users, their
permissions and the Notifieringar tab."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Response, status
from starlette.convertors import Convertor, register_url_convertor

from domain.text import SINGLE_LINE_PATTERN
from domain.web import SessionDep, gated, refusals
from subscriptions import store
from subscriptions.schemas import (
    RESERVED_USER_IDS,
    PermissionsIn,
    SubscriptionsIn,
    SubscriptionsOut,
    UserIn,
    UserOut,
)

NOT_FOUND = "Användaren finns inte."
UserId = Annotated[str, Path(min_length=1, max_length=128, pattern=SINGLE_LINE_PATTERN)]


class _UserIdSegment(Convertor[str]):
    """A path segment that is no reserved id: `/users/bulk` is the bulk load's alone, so
    a GET, PUT or DELETE of it is a 405 there, not the user "bulk"."""

    regex = "".join(f"(?!{word}(?:/|$))" for word in sorted(RESERVED_USER_IDS)) + "[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


# Starlette keeps its convertors by name in one registry; registering again replaces.
register_url_convertor("user_id", _UserIdSegment())
_routes = APIRouter(prefix="/users", tags=["admin"], responses=refusals(404, 413))


def build_router(*, require_admin: Callable[..., Any]) -> APIRouter:
    """The admin router behind the composition root's admin check."""
    return gated(require_admin, _routes)


async def existing_user(user_id: UserId, session: SessionDep) -> str:
    """The path's user id, or 404 when no such user is mirrored.

    The PUTs call it in the handler, after their body validated: a malformed body is a
    422 whoever it is for, and is refused before the database is asked."""
    if await store.get_user(session=session, user_id=user_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return user_id


ExistingUserId = Annotated[str, Depends(existing_user)]


@_routes.put("/{user_id:user_id}")
async def put_user(user_id: UserId, body: UserIn, session: SessionDep) -> UserOut:
    user = await store.put_user(session=session, user_id=user_id, user_in=body)
    await session.commit()
    return await store.user_out(session=session, user=user)


@_routes.get("/{user_id:user_id}")
async def get_user(user_id: UserId, session: SessionDep) -> UserOut:
    user = await store.get_user(session=session, user_id=user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return await store.user_out(session=session, user=user)


@_routes.delete("/{user_id:user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: UserId, session: SessionDep) -> Response:
    if not await store.delete_user(session=session, user_id=user_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@_routes.put("/{user_id:user_id}/permissions")
async def put_permissions(
    user_id: UserId, body: PermissionsIn, session: SessionDep
) -> PermissionsIn:
    await existing_user(user_id, session)
    await store.put_permissions(session=session, user_id=user_id, permissions=body)
    await session.commit()
    return await store.get_permissions(session=session, user_id=user_id)


@_routes.get("/{user_id:user_id}/permissions")
async def get_permissions(user_id: ExistingUserId, session: SessionDep) -> PermissionsIn:
    return await store.get_permissions(session=session, user_id=user_id)


@_routes.put("/{user_id:user_id}/subscriptions")
async def put_subscriptions(
    user_id: UserId, body: SubscriptionsIn, session: SessionDep
) -> SubscriptionsOut:
    await existing_user(user_id, session)
    await store.put_subscriptions(session=session, user_id=user_id, subscriptions=body)
    await session.commit()
    return await store.get_subscriptions(session=session, user_id=user_id)


@_routes.get("/{user_id:user_id}/subscriptions")
async def get_subscriptions(user_id: ExistingUserId, session: SessionDep) -> SubscriptionsOut:
    return await store.get_subscriptions(session=session, user_id=user_id)
