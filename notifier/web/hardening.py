"""What every response and request passes through, whatever the route: registered once by
the application factory."""

from fastapi import FastAPI
from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string

from notifier.settings import Settings
from notifier.web.bodylimit import BodyLimit
from notifier.web.docs import replace_cdn_docs
from notifier.web.headers import SecurityHeaders
from notifier.web.requestguard import ControlCharacterGuard
from routing.web import support_ticket
from routing.web.limits import networks
from routing.web.ratelimit import RateLimit

# JSON bodies and the desk's forms are small; the support form carries a screenshot.
MAX_BODY = 1024 * 1024
# The bulk load streams its NDJSON line by line, each line bounded (subscriptions.bulk),
# for an admin: its length is that of the e-service's user base.
BODY_LIMITS: dict[str, int | None] = {
    "/support/arende": support_ticket.MAX_BODY,
    "/api/v1/users/bulk": None,
}


def harden(app: FastAPI, settings: Settings) -> None:
    # Starlette's slash redirect builds its absolute Location from the Host header, which
    # the client chooses: no redirect, a wrong path is a 404.
    app.router.redirect_slashes = False
    replace_cdn_docs(app)
    app.add_middleware(BodyLimit, default=MAX_BODY, paths=BODY_LIMITS)
    app.add_middleware(ControlCharacterGuard)
    # Outermost, so that even the guards' own refusals carry the headers.
    app.add_middleware(SecurityHeaders, https=settings.base_url.startswith("https://"))


def ticket_rate_limit(settings: Settings) -> RateLimit:
    """New tickets per client, form and API alike, in the shared store when configured."""
    timeout = settings.rate_limit_storage_timeout
    return RateLimit(
        settings.support_rate_limit,
        storage=rate_limit_storage(settings.rate_limit_storage_url, timeout=timeout),
        trusted_proxies=networks(settings.trusted_proxies),
        timeout=timeout,
    )


def rate_limit_storage(url: str | None, *, timeout: float = 0.5) -> Storage:
    if not url:
        return MemoryStorage()
    # `limits` names its asyncio storages async+redis://…; operators write redis://….
    scheme = url if url.startswith("async+") else f"async+{url}"
    # Short socket timeouts: a store that accepts and never answers is as down as one
    # that refuses (RateLimit falls back to its own count).
    storage = storage_from_string(
        scheme,
        implementation="redispy",
        wrap_exceptions=True,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )
    assert isinstance(storage, Storage)
    return storage


async def close_storage(storage: Storage) -> None:
    """Close a Redis storage's connections (limits has no close of its own)."""
    client = getattr(getattr(storage, "bridge", None), "storage", None)
    if client is not None:
        await client.aclose()
