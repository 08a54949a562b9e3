"""Security headers on every response, HTML and JSON alike.

No page of ours but /docs (Swagger UI, from this origin) runs a script, and none is
meant to be framed; the only inline style is the unsubscribe page's (it mirrors the
emails). Attachments are sent by people we do not know:
they are downloaded, never shown as a page of this origin.
"""

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# /docs runs Swagger UI: its script files from this origin, and it fetches /openapi.json.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The triage desk's attachment routes, JSON and HTML.
ATTACHMENT_PATH = re.compile(
    r"^/(api/v1/triage/tickets|triage/arenden)/[^/]+/(attachments|bilagor)/"
)
HSTS = "max-age=31536000; includeSubDomains"
# The console's template previews: the page frames the email's HTML, served with a policy
# of its own (the email's inline styles, no scripts, sandboxed) and framed by us only.
PREVIEW_PAGE = re.compile(r"^/drift/mallar/[^/]+$")
PREVIEW_FRAME = re.compile(r"^/drift/mallar/[^/]+/html$")
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


def policy(path: str) -> tuple[str, str]:
    """The Content-Security-Policy and X-Frame-Options of a response to `path`."""
    if PREVIEW_FRAME.match(path):
        return PREVIEW_CSP, "SAMEORIGIN"
    if PREVIEW_PAGE.match(path):
        return CSP + "; frame-src 'self'", "DENY"
    if path.startswith("/docs"):
        return DOCS_CSP, "DENY"
    return CSP, "DENY"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app, self.https = app, https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        attachment = bool(ATTACHMENT_PATH.match(scope["path"]))
        csp, framing = policy(scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Content-Security-Policy"] = csp
                headers["X-Frame-Options"] = framing
                # Unsubscribe links carry their token in the path: never in a Referer.
                headers["Referrer-Policy"] = "no-referrer"
                if self.https:
                    headers["Strict-Transport-Security"] = HSTS
                if attachment and message["status"] == 200:
                    headers["Content-Disposition"] = "attachment"
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
