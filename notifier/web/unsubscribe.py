"""One-click unsubscribe (RFC 8058): a signed link per (user, event type).

A POST to the link turns that one subscription off; that is what mail clients send for
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`. A GET only shows a page with a
button that POSTs, because link scanners and previewers follow every link in a mail.
"""

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from domain.compensation import EVENT_TYPES
from domain.web import SessionDep, state_dependency
from subscriptions import store

SALT = "unsubscribe.v1"  # a token for this purpose only, not valid elsewhere


class Unsubscribe:
    """Signs and reads unsubscribe tokens; builds their URLs."""

    def __init__(self, key: bytes, base_url: str) -> None:
        self._serializer = URLSafeSerializer(key, salt=SALT)
        self._base_url = base_url.rstrip("/")

    def token(self, user_id: str, event_type: str) -> str:
        return self._serializer.dumps([user_id, event_type])

    def url(self, user_id: str, event_type: str) -> str:
        return f"{self._base_url}/unsubscribe/{self.token(user_id, event_type)}"

    def read(self, token: str) -> tuple[str, str] | None:
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        if (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(part, str) for part in value)
        ):
            return value[0], value[1]
        return None


def page_environment() -> Environment:
    return Environment(
        loader=PackageLoader("templates", "unsubscribe"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )


STATE = "unsubscribe"
router = APIRouter(prefix="/unsubscribe", tags=["unsubscribe"])


@dataclass(frozen=True)
class UnsubscribePages:
    """The links' signer and the page's templates, put on `app.state.unsubscribe` by the
    composition root."""

    links: Unsubscribe
    env: Environment = field(default_factory=page_environment)

    def page(
        self, state: str, event_type: str | None = None, status_code: int = 200
    ) -> HTMLResponse:
        html = self.env.get_template("page.html").render(
            state=state, label=EVENT_TYPES.get(event_type or "", event_type)
        )
        return HTMLResponse(html, status_code=status_code)


PagesDep = Annotated[UnsubscribePages, Depends(state_dependency(STATE, UnsubscribePages))]


# HEAD as GET: link checkers and mail providers probe the List-Unsubscribe URL.
@router.api_route("/{token}", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def confirm(token: str, pages: PagesDep) -> HTMLResponse:
    found = pages.links.read(token)
    if found is None:
        return pages.page("invalid", status_code=404)
    return pages.page("confirm", found[1])


@router.post("/{token}", response_class=HTMLResponse)
async def unsubscribe_now(token: str, session: SessionDep, pages: PagesDep) -> HTMLResponse:
    found = pages.links.read(token)
    if found is None:
        return pages.page("invalid", status_code=404)
    user_id, event_type = found
    # A user or subscription removed meanwhile is just as unsubscribed: same answer.
    await store.set_subscription_enabled(
        session=session, user_id=user_id, event_type=event_type, enabled=False
    )
    await session.commit()
    return pages.page("done", event_type)
