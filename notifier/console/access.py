"""Who may use the console: a staff account with the role `operator` (a Bearer token on
the API, the desk's session on the pages), or the admin token on the API. A staff account
without the role is refused (403), no credentials at all are a 401."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.web import SessionDep
from notifier.console import text
from notifier.console.state import ConsoleDep
from routing.ticketing import staff, staff_sessions
from routing.web.pages import Refused
from routing.web.triage_login import COOKIE

UNAUTHENTICATED = (
    "Logga in med en driftnyckel eller administratörsnyckeln (Authorization: Bearer …)."
)
NOT_OPERATOR = "Nyckeln ger inte tillgång till driftkonsolen: den saknar rollen operator."
PAGE_FORBIDDEN = "Ditt konto saknar rollen operator och får inte använda driftkonsolen."
ADMIN = "admin"  # how the audit trail names the admin token

_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True, slots=True)
class Operator:
    """Who acts, as the audit trail names them."""

    actor: str
    name: str


async def operator_api(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: SessionDep,
    console: ConsoleDep,
) -> Operator:
    token = credentials.credentials if credentials else ""
    if token and console.is_admin_token(token):
        return Operator(actor=ADMIN, name="Administratör")
    account = await staff.by_token(session=session, token=token) if token else None
    if account is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"}
        )
    if not account.is_operator:
        raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_OPERATOR)
    return Operator(actor=account.actor, name=account.name)


async def operator_page(request: Request, session: SessionDep, console: ConsoleDep) -> Operator:
    """The operator of the desk's session cookie; else the login page (401) or 403."""
    token = request.cookies.get(COOKIE, "")
    account = await staff_sessions.account_of(session=session, token=token)
    pages = console.pages
    if account is None:
        raise Refused(
            pages.render(
                request,
                "console/login.html",
                status_code=status.HTTP_401_UNAUTHORIZED,
                title="Logga in",
                me=None,
                next=request.url.path,
                c=text,
            )
        )
    if not account.is_operator:
        raise pages.refuse(request, 403, "Ingen behörighet", PAGE_FORBIDDEN)
    return Operator(actor=account.actor, name=account.name)


OperatorDep = Annotated[Operator, Depends(operator_api)]
OperatorPageDep = Annotated[Operator, Depends(operator_page)]


def invalid(location: str, field: str, message: str) -> HTTPException:
    """A 422 shaped as the app's validation errors (one message per field)."""
    detail = [{"loc": [location, field], "msg": message, "type": "value_error"}]
    return HTTPException(422, detail)
