"""A per-client rate limit on the public POSTs, on the `limits` library.

The counts live in this process's memory unless the composition root hands in a shared
storage (Redis), so that every process of a deployment counts against one budget.

A shared store that fails or does not answer within `timeout` fails open to this process's
own count: the limit is there against floods, and a Redis outage must not close the
support form and the desk login (500s, or requests hanging for seconds). Counted per
process, a client gets at most the limit once per process meanwhile. The outage is
logged once; the store is asked again every `RETRY_STORE_AFTER` seconds, and /readyz
names it degraded meanwhile.
"""

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from routing.web.limits import IPNetwork, client_address

log = logging.getLogger(__name__)

TOO_MANY = (
    "Du har skickat formuläret för många gånger på kort tid. Vänta en stund och försök sedan igen."
)
# A store that failed is left alone this long, so that each request does not wait for it.
RETRY_STORE_AFTER = 10.0
# What a store that is down raises: its own errors (wrapped by limits), the timeout, sockets.
STORE_ERRORS = (StorageError, TimeoutError, OSError)
DEGRADED = "degraded: counted per process"


@dataclass
class RateLimit:
    """`limit` as `limits` writes it, e.g. "20 per minute"; one budget per client and
    scope."""

    limit: str
    storage: Storage = field(default_factory=MemoryStorage)
    # Peers whose X-Forwarded-For is believed (NOTIFIER_TRUSTED_PROXIES).
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # Seconds a shared store may take to answer before this process counts alone.
    timeout: float = 0.5

    def __post_init__(self) -> None:
        self._item: RateLimitItem = parse(self.limit)
        self._limiter = MovingWindowRateLimiter(self.storage)
        self.shared = not isinstance(self.storage, MemoryStorage)
        # This process's own count: the only one without a shared store, else the fallback.
        self._local = MovingWindowRateLimiter(MemoryStorage()) if self.shared else self._limiter
        self._store_down_until: float | None = None  # monotonic time; None: it answers

    def client_of(self, request: Request) -> str:
        return client_address(request, self.trusted_proxies)

    async def hit(self, scope: str, client: str) -> int | None:
        """Count one request; None when allowed, else the seconds to wait."""
        if self.shared and not self._leaving_store_alone():
            try:
                wait = await asyncio.wait_for(self._hit(self._limiter, scope, client), self.timeout)
            except STORE_ERRORS as error:
                self._store_failed(error)
            else:
                self._store_answered()
                return wait
        return await self._hit(self._local, scope, client)

    async def store_state(self) -> str | None:
        """For /readyz: "ok", or why the limits are counted per process; None without a
        shared store."""
        if not self.shared:
            return None
        try:
            answers = await asyncio.wait_for(self.storage.check(), self.timeout)
        except STORE_ERRORS as error:
            return f"{DEGRADED} ({type(error).__name__})"
        return "ok" if answers else f"{DEGRADED} (no answer)"

    async def _hit(self, limiter: MovingWindowRateLimiter, scope: str, client: str) -> int | None:
        if await limiter.hit(self._item, scope, client):
            return None
        stats = await limiter.get_window_stats(self._item, scope, client)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _leaving_store_alone(self) -> bool:
        return self._store_down_until is not None and time.monotonic() < self._store_down_until

    def _store_failed(self, error: Exception) -> None:
        if self._store_down_until is None:
            log.warning(
                "the rate-limit store does not answer (%s): counting per process until it does",
                type(error).__name__,
            )
        self._store_down_until = time.monotonic() + RETRY_STORE_AFTER

    def _store_answered(self) -> None:
        if self._store_down_until is not None:
            log.info("the rate-limit store answers again: counting in it")
            self._store_down_until = None
