"""GET /api/v1/suppressions and DELETE /api/v1/suppressions/{email} (CONTRACTS §3): the
addresses no longer mailed after bounces, and lifting one (admin token)."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response, status
from pydantic import BaseModel

from domain.sqltypes import utcnow
from domain.text import SINGLE_LINE_PATTERN
from domain.web import SessionDep, gated, refusals
from subscriptions import suppressions
from subscriptions.suppressions import Lifted


class SuppressionOut(BaseModel):
    email: str
    since: datetime
    reason: str
    status: str
    diagnostic: str
    user_ids: list[str]  # the users who have the address now


class Suppressions(BaseModel):
    suppressions: list[SuppressionOut]


_routes = APIRouter(prefix="/suppressions", tags=["admin"], responses=refusals(404))


def build_router(*, require_admin: Callable[..., Any]) -> APIRouter:
    return gated(require_admin, _routes)


@_routes.get("")
async def list_suppressions(session: SessionDep) -> Suppressions:
    rows = await suppressions.listing(session=session)
    return Suppressions(
        suppressions=[
            SuppressionOut(
                email=row.email,
                since=row.since,
                reason=row.reason,
                status=row.status,
                diagnostic=row.diagnostic,
                user_ids=users,
            )
            for row, users in rows
        ]
    )


@_routes.delete("/{email}", status_code=status.HTTP_204_NO_CONTENT)
async def lift_suppression(
    email: Annotated[str, Path(min_length=3, max_length=320, pattern=SINGLE_LINE_PATTERN)],
    session: SessionDep,
) -> Response:
    """Mail the address again: the operator knows the mailbox works now."""
    if not await suppressions.lift(session=session, email=email, by=Lifted.OPERATOR, now=utcnow()):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Adressen är inte spärrad.")
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
