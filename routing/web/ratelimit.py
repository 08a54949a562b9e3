"""A per-client rate limit on the public POSTs, on the `limits` library.

The counts live in this process's memory unless the composition root hands in a shared
storage (Redis), so that every process of a deployment counts against one budget.
"""

import math
import time
from dataclasses import dataclass, field

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from routing.web.limits import IPNetwork, client_address

TOO_MANY = (
    "Du har skickat formuläret för många gånger på kort tid. Vänta en stund och försök sedan igen."
)


@dataclass
class RateLimit:
    """`limit` as `limits` writes it, e.g. "20 per minute"; one budget per client and
    scope."""

    limit: str
    storage: Storage = field(default_factory=MemoryStorage)
    # Peers whose X-Forwarded-For is believed (NOTIFIER_TRUSTED_PROXIES).
    trusted_proxies: tuple[IPNetwork, ...] = ()

    def __post_init__(self) -> None:
        self._item: RateLimitItem = parse(self.limit)
        self._limiter = MovingWindowRateLimiter(self.storage)

    def client_of(self, request: Request) -> str:
        return client_address(request, self.trusted_proxies)

    async def hit(self, scope: str, client: str) -> int | None:
        """Count one request; None when allowed, else the seconds to wait."""
        if await self._limiter.hit(self._item, scope, client):
            return None
        stats = await self._limiter.get_window_stats(self._item, scope, client)
        return max(1, math.ceil(stats.reset_time - time.time()))
