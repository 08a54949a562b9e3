"""Rendering the HTML pages: the Jinja environment handed in by the composition root,
the CSRF token in every form, and headers that keep the pages to themselves.

A page refused before its handler runs (not logged in, a form without a valid CSRF
token, too many tries) is raised as `Refused` with the page to show, and `PageRoute`
answers with it; so each check is written once and handlers stay straight lines."""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment

from routing.web import webtext
from routing.web.csrf import FIELD as CSRF_FIELD
from routing.web.csrf import REFUSED, Csrf
from routing.web.ratelimit import TOO_MANY, RateLimit

# Nothing but our own CSS and forms: no scripts at all, no framing, no form posting away.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class Refused(Exception):
    """The page to answer with instead of running the handler."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class PageRoute(APIRoute):
    """A route whose handler and dependencies may raise `Refused`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def refusing(request: Request) -> Response:
            try:
                return await handler(request)
            except Refused as refused:
                return refused.response

        return refusing


@dataclass(frozen=True)
class Pages:
    env: Environment
    csrf: Csrf

    def render(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        context.setdefault("errors", {})
        html = self.env.get_template(template).render(
            csrf_token=self.csrf.token(request), text=webtext, path=request.url.path, **context
        )
        response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
        # A page is per person (its CSRF token, answers): never cache it in between.
        response.headers["Cache-Control"] = "no-store"
        self.csrf.set_cookie(request, response)
        return response

    def problem(self, request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
        return self.render(
            request, "problem.html", status_code=status_code, message=message, title=title
        )

    def refuse(self, request: Request, status_code: int, title: str, message: str) -> Refused:
        return Refused(self.problem(request, status_code, title, message))

    def check_csrf(self, request: Request, values: dict[str, str]) -> None:
        """Raise `Refused` unless the form carries our CSRF token."""
        if not self.csrf.valid(request, values.get(CSRF_FIELD)):
            raise self.refuse(request, 403, "Formuläret kunde inte skickas", REFUSED)

    async def form(self, request: Request, *, max_fields: int) -> dict[str, str]:
        """A form without files, its CSRF token checked."""
        form = await request.form(max_files=0, max_fields=max_fields)
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        self.check_csrf(request, values)
        return values

    async def limit(self, request: Request, rate_limit: RateLimit, scope: str) -> None:
        """Count the request against the client's budget; over it, raise `Refused` (429)."""
        if (wait := await rate_limit.hit(scope, rate_limit.client_of(request))) is not None:
            refused = self.refuse(request, 429, "För många försök", TOO_MANY)
            refused.response.headers["Retry-After"] = str(wait)
            raise refused
