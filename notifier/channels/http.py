"""The "http" channel: an outbox message POSTed as JSON to its recipient URL.

The composition root builds the httpx client once and closes it at shutdown. The outcome
is named for the sender: 2xx delivered; 408, 429, 5xx, a timeout or a connection error
transient (retried); any other 4xx permanent (the endpoint refuses this message).
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from notifier.channels.base import PermanentDeliveryError, TransientDeliveryError
from notifier.pipeline.models import OutboxMessage

TRANSIENT_STATUSES = frozenset({408, 425, 429})

# Extra JSON fields for a message, loaded at delivery time (e.g. a ticket's attachments,
# which may be stored after the forward was queued).
Enricher = Callable[[list[OutboxMessage]], Awaitable[dict[int, dict[str, Any]]]]


class HttpTransport:
    def __init__(self, client: httpx.AsyncClient, *, enrich: Enricher | None = None) -> None:
        self._client = client
        self._enrich = enrich

    async def deliver(self, messages: list[OutboxMessage]) -> dict[int, Exception | None]:
        extra = await self._enrich(messages) if self._enrich else {}
        results: dict[int, Exception | None] = {}
        for message in messages:
            assert message.id is not None, "only stored outbox messages are delivered"
            results[message.id] = await self._post(message, extra.get(message.id, {}))
        return results

    async def _post(self, message: OutboxMessage, extra: dict[str, Any]) -> Exception | None:
        body = json.loads(message.body_text or "{}") | extra
        headers = message.headers | {
            # Lets the endpoint drop a repeat: a retry after a lost response sends it again.
            "Idempotency-Key": message.message_id,
            "Content-Type": "application/json; charset=utf-8",
        }
        try:
            response = await self._client.post(
                message.recipient, content=json.dumps(body, ensure_ascii=False), headers=headers
            )
        except httpx.TransportError as exc:  # timeouts, refused connections, broken pipes
            return TransientDeliveryError(f"{type(exc).__name__}: {exc}")
        return outcome(response)


def outcome(response: httpx.Response) -> Exception | None:
    status = response.status_code
    if 200 <= status < 300:
        return None
    reason = f"HTTP {status} from {response.request.url}: {response.text[:200]}"
    if status in TRANSIENT_STATUSES or status >= 500:
        return TransientDeliveryError(reason)
    return PermanentDeliveryError(reason)
