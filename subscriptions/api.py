"""The admin API (CONTRACTS §3) that the e-service uses to mirror its users, their
permissions and the Notifieringar tab."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Response, status
from sqlmodel.ext.asyncio.session import AsyncSession

from subscriptions import store
from subscriptions.schemas import PermissionsIn, SubscriptionsIn, SubscriptionsOut, UserIn, UserOut

NOT_FOUND = "Användaren finns inte."
UserId = Annotated[str, Path(min_length=1, max_length=128)]


def build_router(
    *,
    get_session: Callable[[], AsyncIterator[AsyncSession]],
    require_admin: Callable[..., Any],
) -> APIRouter:
    """The admin router; the composition root hands in the session and the admin check."""
    SessionDep = Annotated[AsyncSession, Depends(get_session)]
    router = APIRouter(prefix="/users", tags=["admin"], dependencies=[Depends(require_admin)])

    async def existing(session: AsyncSession, user_id: str) -> None:
        if await store.get_user(session=session, user_id=user_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)

    @router.put("/{user_id}")
    async def put_user(user_id: UserId, body: UserIn, session: SessionDep) -> UserOut:
        user = await store.put_user(session=session, user_id=user_id, user_in=body)
        await session.commit()
        return store.user_out(user)

    @router.get("/{user_id}")
    async def get_user(user_id: UserId, session: SessionDep) -> UserOut:
        user = await store.get_user(session=session, user_id=user_id)
        if user is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
        return store.user_out(user)

    @router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_user(user_id: UserId, session: SessionDep) -> Response:
        if not await store.delete_user(session=session, user_id=user_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
        await session.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.put("/{user_id}/permissions")
    async def put_permissions(
        user_id: UserId, body: PermissionsIn, session: SessionDep
    ) -> PermissionsIn:
        await existing(session, user_id)
        await store.put_permissions(session=session, user_id=user_id, permissions=body)
        await session.commit()
        return await store.get_permissions(session=session, user_id=user_id)

    @router.get("/{user_id}/permissions")
    async def get_permissions(user_id: UserId, session: SessionDep) -> PermissionsIn:
        await existing(session, user_id)
        return await store.get_permissions(session=session, user_id=user_id)

    @router.put("/{user_id}/subscriptions")
    async def put_subscriptions(
        user_id: UserId, body: SubscriptionsIn, session: SessionDep
    ) -> SubscriptionsOut:
        await existing(session, user_id)
        await store.put_subscriptions(session=session, user_id=user_id, subscriptions=body)
        await session.commit()
        return await store.get_subscriptions(session=session, user_id=user_id)

    @router.get("/{user_id}/subscriptions")
    async def get_subscriptions(user_id: UserId, session: SessionDep) -> SubscriptionsOut:
        await existing(session, user_id)
        return await store.get_subscriptions(session=session, user_id=user_id)

    return router
