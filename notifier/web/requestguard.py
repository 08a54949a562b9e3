"""Refuse a request whose path or query string carries control characters, before any
route sees it: path parameters (user ids, ticket ids) and query filters would otherwise
reach PostgreSQL, which answers NUL with an error (a 500)."""

import json
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from domain.text import text_error

REFUSED = "Adressen innehåller otillåtna tecken (styrtecken)."


def url_error(scope: Scope) -> str | None:
    """Why this request's path or query cannot be served, or None."""
    query = scope.get("query_string", b"").decode("latin-1")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return REFUSED
    parts = [scope.get("path", ""), *(part for pair in pairs for part in pair)]
    return REFUSED if any(text_error(part) for part in parts) else None


class ControlCharacterGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (error := url_error(scope)) is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"detail": error}, ensure_ascii=False).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})
