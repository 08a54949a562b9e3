"""/docs: Swagger UI from this origin. FastAPI's own pages load their scripts from
cdn.jsdelivr.net, so a compromised CDN would run in our origin; here the script and style
sheet come from the installed `fastapi-offline` package (Swagger UI 5, which reads
OpenAPI 3.1), and the page starts Swagger UI from a script file of ours, so no inline
script is needed (the CSP of /docs allows scripts from this origin only)."""

from html import escape
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from notifier.web.api_docs import document

CDN_PAGES = {"/docs", "/docs/oauth2-redirect", "/redoc"}
STATIC = "/docs/static"
# Starts Swagger UI; a file, not an inline script: script-src 'self' allows only files.
START = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  defaultModelsExpandDepth: 0,
  displayRequestDuration: true
});
"""


def replace_cdn_docs(app: FastAPI) -> None:
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", "") not in CDN_PAGES]
    built = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(built())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    static = files("fastapi_offline").joinpath("static")
    app.mount(STATIC, StaticFiles(directory=str(static)), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page(app.title))

    @app.get("/docs/start.js", include_in_schema=False)
    async def start() -> Response:
        return Response(START, media_type="text/javascript")


def page(title: str) -> str:
    """Swagger UI's page: its style sheet and script from this origin, then ours."""
    return (
        '<!DOCTYPE html>\n<html lang="sv">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>API – {escape(title)}</title>\n"
        f'<link rel="stylesheet" href="{STATIC}/swagger-ui.css">\n'
        f'<link rel="icon" href="{STATIC}/favicon.png">\n</head>\n<body>\n'
        "<noscript><p>Sidan behöver JavaScript. Hela beskrivningen finns i "
        '<a href="/openapi.json">/openapi.json</a> (OpenAPI 3).</p></noscript>\n'
        '<div id="swagger-ui"></div>\n'
        f'<script src="{STATIC}/swagger-ui-bundle.js"></script>\n'
        '<script src="/docs/start.js"></script>\n</body>\n</html>\n'
    )
