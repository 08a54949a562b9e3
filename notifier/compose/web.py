"""The web's parts, wired from the services: what the support form, the support API and
the triage desk share (pages, CSRF, the desk and its hooks, the ticket rate limit), and
the pages of unsubscribe links and Mina notifieringar. notifier.app.create_app only
mounts them."""

from dataclasses import dataclass
from datetime import datetime

from notifier.compose.services import Services
from notifier.kinds.tickets import answer_hook, forward_hook, opened_hook
from notifier.web.hardening import ticket_rate_limit
from notifier.web.preferences import PreferenceLinks, PreferencePages
from notifier.web.security import admin_token_check
from notifier.web.unsubscribe import Unsubscribe, UnsubscribePages
from routing.ticketing.triage import Desk
from routing.web.csrf import Csrf
from routing.web.deps import RoutingWeb
from routing.web.pages import Pages


@dataclass(frozen=True)
class Web:
    routing: RoutingWeb
    unsubscribe: UnsubscribePages
    preferences: PreferencePages


def build_web(services: Services) -> Web:
    settings, key = services.settings, services.key
    secure = settings.base_url.startswith("https://")

    def now() -> datetime:
        return services.clock()  # read at each call: tests fix the clock after start

    pages = Pages(services.templates.web, Csrf(key, secure=secure))
    routing = RoutingWeb(
        rules=services.rules,
        now=now,
        pages=pages,
        desk=Desk(
            rules=services.rules,
            now=now,
            on_ticket_created=forward_hook(settings, key),
            on_ticket_answered=answer_hook(settings, key),
            stale_after_days=settings.desk_stale_working_days,
        ),
        # New tickets per client, from the form and the JSON API alike.
        rate_limit=ticket_rate_limit(settings),
        signing_key=key,
        is_admin_token=admin_token_check(settings),
        on_ticket_created=opened_hook(settings, key),  # a reroute (the desk's) sends no receipt
        secure_cookies=secure,
    )
    unsubscribe = UnsubscribePages(
        Unsubscribe(key, settings.base_url), services.templates.unsubscribe
    )
    preferences = PreferencePages(PreferenceLinks(key, settings.base_url), pages)
    return Web(routing, unsubscribe, preferences)
