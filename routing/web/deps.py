"""What the routing routers share, built once by the composition root.

`create_app` puts one `RoutingWeb` on `app.state.routing`; handlers ask for it as
`WebDep`, beside `domain.web.SessionDep`, instead of each router factory closing over
its own copy of the same arguments.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Annotated

from fastapi import Depends
from itsdangerous import URLSafeTimedSerializer

from domain.web import state_dependency
from routing.decision.rules import RuleSet
from routing.ticketing.tickets import TicketCreatedHook
from routing.ticketing.triage import Desk
from routing.web.pages import Pages
from routing.web.ratelimit import RateLimit

STATE = "routing"


@dataclass(frozen=True)
class RoutingWeb:
    rules: RuleSet
    now: Callable[[], datetime]  # the composition root's clock; tests fix it
    pages: Pages
    desk: Desk
    rate_limit: RateLimit
    signing_key: bytes
    # Whether a Bearer token is the admin's: it is refused on the triage API as not staff.
    is_admin_token: Callable[[str], bool]
    on_ticket_created: TicketCreatedHook | None = None
    secure_cookies: bool = False  # the site is served over HTTPS

    @cached_property
    def receipts(self) -> URLSafeTimedSerializer:
        """Signs the support form's receipt link (reference and destination)."""
        return URLSafeTimedSerializer(self.signing_key, salt="support-receipt")


WebDep = Annotated[RoutingWeb, Depends(state_dependency(STATE, RoutingWeb))]
