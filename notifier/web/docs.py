"""/docs without a CDN: FastAPI's Swagger UI and ReDoc load their scripts from
cdn.jsdelivr.net, so a compromised CDN would run in our origin. This page lists the
operations of /openapi.json, server-rendered, with no script at all."""

from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

CDN_PAGES = {"/docs", "/docs/oauth2-redirect", "/redoc"}
METHODS = ("get", "put", "post", "delete", "patch")


def replace_cdn_docs(app: FastAPI) -> None:
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", "") not in CDN_PAGES]

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page(app.title, app.openapi()))


def page(title: str, schema: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{method.upper()}</code></td><td><code>{escape(path)}</code></td>"
        f"<td>{escape(operation.get('summary', ''))}</td></tr>"
        for path, item in schema.get("paths", {}).items()
        for method, operation in item.items()
        if method in METHODS
    )
    return (
        f'<!doctype html><html lang="sv"><head><meta charset="utf-8">'
        f"<title>API – {escape(title)}</title></head><body><h1>{escape(title)}</h1>"
        '<p>Hela beskrivningen finns i <a href="/openapi.json">/openapi.json</a> '
        "(OpenAPI 3).</p>"
        f"<table><tr><th>Metod</th><th>Sökväg</th><th>Beskrivning</th></tr>{rows}</table>"
        "</body></html>"
    )
