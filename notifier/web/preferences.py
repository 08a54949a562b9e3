""" "Mina notifieringar" (docs/contracts.md §3): from a link in every email, a user turns each
event type on or off and chooses immediate or daily delivery, without logging in.

The link is the credential, so it names no user id: it carries the user id encrypted
and authenticated (Fernet, AES-128-CBC + HMAC-SHA256, under a key of its own derived
from the service's key), with the time it was made; it is honoured for a year. The form
is CSRF-protected like the support form. A POST of only `List-Unsubscribe=One-Click`
(RFC 8058, from the digest's List-Unsubscribe header) turns every notification off.
"""

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from domain.compensation import ANNOUNCEMENT, COMPENSATION_TYPES, EVENT_TYPES
from domain.web import PathText, SessionDep, page_refusals, state_dependency
from notifier.web.security import kept_for_an_hour
from routing.web.csrf import FIELD as CSRF_FIELD
from routing.web.pages import PageRoute, Pages
from subscriptions import store
from subscriptions.models import Delivery, User

PURPOSE = b"preferences.v1"  # a key for these links only: no other token opens the page
VALID_FOR = timedelta(days=365)
AUTOMATIC = "payment.automatic"  # paid without application: the schablon types only

DELIVERIES = {
    Delivery.IMMEDIATE: "Direkt – ett mejl för varje händelse",
    Delivery.DAILY: "Samlat – ett mejl om dagen med allt som hänt sedan förra mejlet",
}


class PreferenceLinks:
    """Makes and reads the opaque per-user links to the page."""

    def __init__(self, key: bytes, base_url: str, *, now: Callable[[], float] = time.time) -> None:
        own_key = hmac.new(key, PURPOSE, hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(own_key))
        self._base_url = base_url.rstrip("/")
        self._links = kept_for_an_hour(self._url_at, now)

    def token(self, user_id: str, *, at: int | None = None) -> str:
        data = user_id.encode()
        made = self._fernet.encrypt(data) if at is None else self._fernet.encrypt_at_time(data, at)
        # Padding stripped: some mail clients end a link at '='.
        return made.decode().rstrip("=")

    def url(self, user_id: str) -> str:
        """The link for emails: the same for a user within an hour."""
        return self._links(user_id)

    def _url_at(self, at: int, user_id: str) -> str:
        return f"{self._base_url}/mina-notifieringar/{self.token(user_id, at=at)}"

    def read(self, token: str, *, now: int | None = None) -> str | None:
        """The user id, or None for a token not ours, tampered with or over a year old."""
        data = (token + "=" * (-len(token) % 4)).encode()
        ttl = int(VALID_FOR.total_seconds())
        try:
            if now is None:
                return self._fernet.decrypt(data, ttl=ttl).decode()
            return self._fernet.decrypt_at_time(data, ttl=ttl, current_time=now).decode()
        except (InvalidToken, ValueError, UnicodeDecodeError):
            return None


def meaningful(event_type: str, grants: Mapping[str, str]) -> bool:
    """Whether the user's grants let an event of this type reach them at all: an
    announcement needs none; an automatic payment concerns the types paid without
    application, every other event the types applied for (DOMAIN.md)."""
    if event_type == ANNOUNCEMENT:
        return True
    automatic = event_type == AUTOMATIC
    return any(
        COMPENSATION_TYPES[code].without_application == automatic
        for code in grants
        if code in COMPENSATION_TYPES
    )


@dataclass(frozen=True)
class PreferencePages:
    """Put on `app.state.preferences` by create_app."""

    links: PreferenceLinks
    pages: Pages


STATE = "preferences"
PagesDep = Annotated[PreferencePages, Depends(state_dependency(STATE, PreferencePages))]
router = APIRouter(
    prefix="/mina-notifieringar",
    tags=["preferences"],
    route_class=PageRoute,
    responses=page_refusals(400, 403, 404, 413),
)


@router.get("/{token}", response_class=HTMLResponse)
async def show(token: PathText, request: Request, session: SessionDep, pages: PagesDep) -> Response:
    user = await _user(token, request, session, pages)
    saved = request.query_params.get("sparat") == "1"
    return await _page(request, session, pages, user, saved=saved)


@router.post("/{token}", response_class=HTMLResponse, responses={303: {"description": "Sparat."}})
async def save(token: PathText, request: Request, session: SessionDep, pages: PagesDep) -> Response:
    user = await _user(token, request, session, pages)
    form = await request.form(max_files=0, max_fields=len(EVENT_TYPES) + 4)
    if form.get("List-Unsubscribe") == "One-Click" and CSRF_FIELD not in form:
        await store.set_preferences(
            session=session, user_id=user.id, wanted=set(), delivery=Delivery(user.delivery)
        )
        await session.commit()
        return await _page(request, session, pages, user, saved=True)
    pages.pages.check_csrf(request, {CSRF_FIELD: str(form.get(CSRF_FIELD) or "")})
    wanted = {str(value) for value in form.getlist("event_types")}
    delivery = str(form.get("delivery") or "")
    errors = _errors(wanted, delivery)
    if errors:
        chosen = {"wanted": wanted, "delivery": delivery}
        return await _page(request, session, pages, user, errors=errors, chosen=chosen)
    await store.set_preferences(
        session=session, user_id=user.id, wanted=wanted, delivery=Delivery(delivery)
    )
    await session.commit()
    return RedirectResponse(f"{request.url.path}?sparat=1", status_code=303)


def _errors(wanted: set[str], delivery: str) -> dict[str, str]:
    errors = {}
    if not wanted <= set(EVENT_TYPES):
        errors["event_types"] = "Välj bland notifieringarna i listan"
    if delivery not in set(Delivery):
        errors["delivery"] = "Välj om du vill få notifieringarna direkt eller samlat"
    return errors


async def _user(token: PathText, request: Request, session: SessionDep, pages: PagesDep) -> User:
    user_id = pages.links.read(token)
    user = await store.get_user(session=session, user_id=user_id) if user_id else None
    if user is None:
        # The same answer for a bad link and a removed user: a link reveals nothing.
        raise pages.pages.refuse(
            request,
            404,
            "Länken fungerar inte",
            "Länken är ogiltig eller äldre än ett år. Använd länken i ett nyare mejl från "
            "e-tjänsten; den leder till Mina notifieringar.",
        )
    return user


async def _page(
    request: Request,
    session: SessionDep,
    pages: PagesDep,
    user: User,
    *,
    saved: bool = False,
    errors: dict[str, str] | None = None,
    chosen: dict[str, Any] | None = None,
) -> HTMLResponse:
    state = await store.get_subscriptions(session=session, user_id=user.id)
    grants = (await store.get_permissions(session=session, user_id=user.id)).grants
    on = {s.event_type for s in state.subscriptions if s.enabled}
    wanted = chosen["wanted"] if chosen else on
    choices = [
        {
            "code": code,
            "label": label,
            "checked": code in wanted,
            "meaningful": meaningful(code, grants),
        }
        for code, label in EVENT_TYPES.items()
    ]
    return pages.pages.render(
        request,
        "preferences.html",
        status_code=400 if errors else 200,
        title="Mina notifieringar",
        errors=errors or {},
        saved=saved,
        choices=choices,
        deliveries=DELIVERIES,
        delivery=chosen["delivery"] if chosen else user.delivery,
    )
