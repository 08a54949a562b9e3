"""GET /api/v1/suppressions and DELETE /api/v1/suppressions/{email} (docs/contracts.md §3): the
addresses no longer mailed after bounces, and lifting one. Operators (or the admin
token) only; a lift is audited."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status
from pydantic import BaseModel

from domain.text import SINGLE_LINE_PATTERN
from domain.web import SessionDep, refusals
from notifier.console import actions
from notifier.console.access import OperatorDep
from notifier.console.state import ConsoleDep
from subscriptions import suppressions

NOT_SUPPRESSED = "Adressen är inte spärrad."


class SuppressionOut(BaseModel):
    email: str
    since: datetime
    reason: str
    status: str
    diagnostic: str
    user_ids: list[str]  # the users who have the address now


class Suppressions(BaseModel):
    suppressions: list[SuppressionOut]


router = APIRouter(prefix="/suppressions", tags=["operators"], responses=refusals(401, 403, 404))


@router.get("")
async def list_suppressions(session: SessionDep, me: OperatorDep) -> Suppressions:
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


@router.delete("/{email}", status_code=status.HTTP_204_NO_CONTENT)
async def lift_suppression(
    email: Annotated[str, Path(min_length=3, max_length=320, pattern=SINGLE_LINE_PATTERN)],
    session: SessionDep,
    console: ConsoleDep,
    me: OperatorDep,
) -> Response:
    """Mail the address again: the operator knows the mailbox works now."""
    if not await actions.lift_suppression(session, console, me, email):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_SUPPRESSED)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
