"""One-click unsubscribe (RFC 8058): a signed link per (user, event type).

A POST to the link turns that one subscription off; that is what mail clients send for
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`. A GET only shows a page with a
button that POSTs, because link scanners and previewers follow every link in a mail.
"""

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment

from domain.compensation import EVENT_TYPES
from domain.web import PathText, SessionDep, page_refusals, state_dependency
from notifier.web.security import kept_for_an_hour
from subscriptions import store

SALT = "unsubscribe.v1"  # a token for this purpose only, not valid elsewhere
VALID_FOR = timedelta(days=366)  # a year of emails stays unsubscribable


class Unsubscribe:
    """Makes and reads unsubscribe tokens; builds their URLs.

    A token is encrypted and authenticated (Fernet, with a key derived from the signing
    key for this purpose only): it names no user id or event type to whoever reads the
    email or a log, and it expires after a year. Tokens of the older signed, readable kind
    carry no time, so they are refused as expired: the person is told to use the
    Notifieringar tab instead.
    """

    def __init__(self, key: bytes, base_url: str, *, now: Callable[[], float] = time.time) -> None:
        derived = hashlib.sha256(b"unsubscribe.v2\0" + key).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))
        self._legacy = URLSafeSerializer(key, salt=SALT)
        self._base_url = base_url.rstrip("/")
        self._now = now
        self._links = kept_for_an_hour(self._url_at, now)

    def token(self, user_id: str, event_type: str, *, at: int | None = None) -> str:
        payload = json.dumps([user_id, event_type]).encode()
        made = int(self._now()) if at is None else at
        return self._fernet.encrypt_at_time(payload, made).decode()

    def url(self, user_id: str, event_type: str) -> str:
        """The link for emails: the same for a user and event type within an hour."""
        return self._links(user_id, event_type)

    def _url_at(self, at: int, user_id: str, event_type: str) -> str:
        return f"{self._base_url}/unsubscribe/{self.token(user_id, event_type, at=at)}"

    def read(self, token: str) -> tuple[str, str] | None:
        """The (user id, event type) of a token made within the year, else None."""
        try:
            ttl = int(VALID_FOR.total_seconds())
            value = json.loads(self._fernet.decrypt_at_time(token, ttl, int(self._now())))
        except (InvalidToken, ValueError):
            return None
        if (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(part, str) for part in value)
        ):
            return value[0], value[1]
        return None

    def expired(self, token: str) -> bool:
        """True for a token this service made that is no longer honoured: one over a year
        old, or one of the older signed kind, which names no time and would never expire."""
        try:
            made = self._fernet.extract_timestamp(token)
        except InvalidToken:
            return self._legacy_signed(token)
        return self._now() - made > VALID_FOR.total_seconds()

    def _legacy_signed(self, token: str) -> bool:
        try:
            self._legacy.loads(token)
        except BadSignature:
            return False
        return True


STATE = "unsubscribe"
router = APIRouter(
    prefix="/unsubscribe", tags=["unsubscribe"], responses=page_refusals(400, 404, 410, 413)
)


@dataclass(frozen=True)
class UnsubscribePages:
    """The links' signer and the page's templates, put on `app.state.unsubscribe` by the
    composition root."""

    links: Unsubscribe
    env: Environment

    def page(
        self, state: str, event_type: str | None = None, status_code: int = 200
    ) -> HTMLResponse:
        html = self.env.get_template("page.html").render(
            state=state, label=EVENT_TYPES.get(event_type or "", event_type)
        )
        return HTMLResponse(html, status_code=status_code)

    def refusal(self, token: str) -> HTMLResponse:
        """410 for a link of ours that has expired, 404 for anything else."""
        if self.links.expired(token):
            return self.page("expired", status_code=410)
        return self.page("invalid", status_code=404)


PagesDep = Annotated[UnsubscribePages, Depends(state_dependency(STATE, UnsubscribePages))]


# HEAD as GET: link checkers and mail providers probe the List-Unsubscribe URL.
@router.head("/{token}", response_class=HTMLResponse, include_in_schema=False)
@router.get("/{token}", response_class=HTMLResponse)
async def confirm(token: PathText, pages: PagesDep) -> HTMLResponse:
    found = pages.links.read(token)
    if found is None:
        return pages.refusal(token)
    return pages.page("confirm", found[1])


@router.post("/{token}", response_class=HTMLResponse)
async def unsubscribe_now(token: PathText, session: SessionDep, pages: PagesDep) -> HTMLResponse:
    found = pages.links.read(token)
    if found is None:
        return pages.refusal(token)
    user_id, event_type = found
    # A user or subscription removed meanwhile is just as unsubscribed: same answer.
    await store.set_subscription_enabled(
        session=session, user_id=user_id, event_type=event_type, enabled=False
    )
    await session.commit()
    return pages.page("done", event_type)
