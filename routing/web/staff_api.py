"""Staff credentials and who is asking: the admin endpoints that mint and revoke staff
tokens, and `StaffDep`, which lets only staff through to the triage API."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StringConstraints

from domain.text import SINGLE_LINE_PATTERN, SingleLine
from domain.web import SessionDep, gated, refusals
from routing.decision.schemas import Destination
from routing.ticketing import staff
from routing.ticketing.staff import StaffAccount
from routing.web.deps import WebDep

UNAUTHENTICATED = "Logga in med din personalnyckel (Authorization: Bearer …)."
NOT_STAFF = "Nyckeln ger inte tillgång till ärendehanteringen: den saknar rollen staff."

_bearer = HTTPBearer(auto_error=False)
_routes = APIRouter(prefix="/staff", tags=["admin"], responses=refusals(404, 413))


class StaffIn(BaseModel):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine
    ]
    roles: list[Annotated[str, StringConstraints(max_length=40)]] = Field(
        default_factory=lambda: [staff.STAFF_ROLE], max_length=10
    )
    destinations: list[Destination] = Field(default_factory=list, max_length=10)


def build_admin_router(*, require_admin: Callable[..., Any]) -> APIRouter:
    """The staff endpoints behind the composition root's admin check."""
    return gated(require_admin, _routes)


@_routes.post("", status_code=status.HTTP_201_CREATED)
async def mint(body: StaffIn, session: SessionDep) -> dict[str, Any]:
    """Mints an account and shows its token once; only its hash is kept."""
    account, token = await staff.mint(
        session=session,
        name=body.name,
        roles=body.roles,
        destinations=[str(d) for d in body.destinations],
    )
    await session.commit()
    return staff.public(account) | {"token": token}


@_routes.get("")
async def list_staff(session: SessionDep) -> list[dict[str, Any]]:
    return [staff.public(a) for a in await staff.list_accounts(session=session)]


@_routes.delete("/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke(
    account_id: Annotated[str, Path(max_length=36, pattern=SINGLE_LINE_PATTERN)],
    session: SessionDep,
) -> Response:
    if not await staff.revoke(session=session, account_id=account_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Kontot finns inte.")
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def require_staff(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: SessionDep,
    web: WebDep,
) -> StaffAccount:
    """401 without a live token; 403 for a token that is valid but not staff's (the admin
    token, or an account without the staff role)."""
    token = credentials.credentials if credentials else ""
    account = await staff.by_token(session=session, token=token) if token else None
    if account is None and token and web.is_admin_token(token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_STAFF)
    if account is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"}
        )
    if not account.is_staff:
        raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_STAFF)
    return account


StaffDep = Annotated[StaffAccount, Depends(require_staff)]
