"""Rendering the HTML pages: the Jinja environment handed in by the composition root,
the CSRF token in every form, and headers that keep the pages to themselves."""

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from routing.web import webtext
from routing.web.csrf import Csrf

# Nothing but our own CSS and forms: no scripts at all, no framing, no form posting away.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


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
