"""What every response and request passes through, whatever the route: registered once by
the application factory."""

from fastapi import FastAPI

from notifier.settings import Settings
from notifier.web.bodylimit import BodyLimit
from notifier.web.docs import replace_cdn_docs
from notifier.web.headers import SecurityHeaders
from notifier.web.requestguard import ControlCharacterGuard
from routing.web import support

# JSON bodies and the desk's forms are small; the support form carries a screenshot.
MAX_BODY = 1024 * 1024
BODY_LIMITS = {"/support/arende": support.MAX_BODY}


def harden(app: FastAPI, settings: Settings) -> None:
    # Starlette's slash redirect builds its absolute Location from the Host header, which
    # the client chooses: no redirect, a wrong path is a 404.
    app.router.redirect_slashes = False
    replace_cdn_docs(app)
    app.add_middleware(BodyLimit, default=MAX_BODY, paths=BODY_LIMITS)
    app.add_middleware(ControlCharacterGuard)
    # Outermost, so that even the guards' own refusals carry the headers.
    app.add_middleware(SecurityHeaders, https=settings.base_url.startswith("https://"))
