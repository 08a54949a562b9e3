"""A ceiling on every request body, counted as it arrives.

A Content-Length is the sender's word, and a chunked body has none: the bytes are counted
as the application reads them, and reading stops at the ceiling with a 413 (raised inside
the application, so its exception handling answers). The rest of the body is never read;
the server then closes the connection.
"""

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE = "Förfrågan är för stor."


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing passes it on instead of making it a 400."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


class BodyLimit:
    """`default` bytes for any request, or the limit of its path in `paths` (None: a path
    that reads its body as a stream and bounds what it keeps itself)."""

    def __init__(self, app: ASGIApp, *, default: int, paths: Mapping[str, int | None]) -> None:
        self.app, self.default, self.paths = app, default, dict(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A route may refuse a too-large Content-Length first, with its own page; this
        # holds whatever the header says.
        limit = self.paths.get(scope["path"], self.default)
        if limit is None:
            await self.app(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)
