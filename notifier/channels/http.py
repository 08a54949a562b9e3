"""The "http" channel: an outbox message POSTed as JSON to its recipient URL.

The composition root builds the httpx client once and closes it at shutdown. The outcome
is named for the sender: 2xx delivered; 408, 429, 5xx, a timeout or a connection error
transient (retried); any other 4xx permanent (the endpoint refuses this message).
"""

import base64
import json
from collections.abc import Sequence
from typing import Any

import httpx

from notifier.channels.base import (
    FileAttachment,
    Files,
    PermanentDeliveryError,
    Results,
    TransientDeliveryError,
)
from notifier.outbox.models import Claimed

TRANSIENT_STATUSES = frozenset({408, 425, 429})


class HttpChannel:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def deliver(self, messages: list[Claimed], files: Files | None = None) -> Results:
        results: Results = {}
        for message in messages:
            attached = (files or {}).get(message.id)
            results[message.id] = await self._post(message, attached)
        return results

    async def _post(
        self, message: Claimed, files: Sequence[FileAttachment] | None
    ) -> Exception | None:
        body = json.loads(message.body_text or "{}")
        if files is not None:
            body["attachments"] = [attachment_json(file) for file in files]
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


def attachment_json(file: FileAttachment) -> dict[str, Any]:
    return {
        "filename": file.filename,
        "content_type": file.content_type,
        "size": len(file.data),
        "data_base64": base64.b64encode(file.data).decode("ascii"),
    }
