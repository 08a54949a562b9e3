"""CSRF protection for the HTML forms: a signed double-submit token.

The browser holds a random value in a cookie; every form carries that value signed with
the service's key. A POST passes only when the signed field matches the cookie, so a
page on another site, which can neither read our cookie nor sign, cannot forge one.
"""

import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "csrf"
FIELD = "csrf_token"
MAX_AGE = 4 * 60 * 60  # a form left open longer than a working morning is asked again
REFUSED = (
    "Formuläret har gått ut eller kom inte från den här webbplatsen. "
    "Gå tillbaka, ladda om sidan och försök igen."
)


@dataclass(frozen=True)
class Csrf:
    key: bytes
    secure: bool = False  # the cookie travels over HTTPS only when the site is served so

    @property
    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.key, salt="csrf")

    def token(self, request: Request) -> str:
        """The signed token for a form on this page; `set_cookie` then sends a new cookie
        when the browser had none."""
        value = request.cookies.get(COOKIE) or getattr(request.state, "csrf_value", None)
        if not value:
            value = secrets.token_urlsafe(32)
            request.state.csrf_value = value
        return str(self._serializer.dumps(value))

    def set_cookie(self, request: Request, response: Response) -> None:
        value = getattr(request.state, "csrf_value", None)
        if value and not request.cookies.get(COOKIE):
            response.set_cookie(
                COOKIE, value, httponly=True, samesite="strict", secure=self.secure, path="/"
            )

    def valid(self, request: Request, submitted: str | None) -> bool:
        """True when the submitted token is ours, fresh and matches the cookie."""
        cookie = request.cookies.get(COOKIE)
        try:
            value = self._serializer.loads(submitted or "", max_age=MAX_AGE)
        except BadSignature:
            value = None
        return bool(cookie and value and secrets.compare_digest(str(value), cookie))
