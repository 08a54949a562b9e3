"""Which methods a URL takes, told truthfully (RFC 9110 §10.2.1 and §9.3.7).

Starlette answers a method a path does not take with the methods of the *first* route on
that path, so a URL served by several routes (GET and POST on an unsubscribe link, GET,
PUT and DELETE on a user) named only some in `Allow`; and `OPTIONS` was one of those
refusals. Here `Allow` names every route's methods, and `OPTIONS` is answered with it.
"""

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.routing import Match

METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed(app: FastAPI, request: Request) -> list[str]:
    """Every method some route serves at this request's path, OPTIONS included: asked of
    the router itself, as it would dispatch each, so included routers count too."""
    served = [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in app.router.routes
        )
    ]
    return [*served, "OPTIONS"]


def add_method_answers(app: FastAPI) -> None:
    async def not_allowed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        allow = ", ".join(allowed(app, request))
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        exc.headers = {**(exc.headers or {}), "Allow": allow}
        return await http_exception_handler(request, exc)

    app.add_exception_handler(405, not_allowed)
