"""How the sender hands outbox messages to their channel ("email" or "http").

Failures are named by what should happen next, not by what went wrong: a transient one is
retried with backoff, a permanent one is recorded as failed with its reason. Neither ever
deletes the message.
"""

from collections.abc import Mapping, Sequence
from typing import Protocol

from notifier.outbox.models import Claimed


class TransientDeliveryError(Exception):
    """Try again later: connection refused, timeout, SMTP 4xx, HTTP 5xx/429."""


class PermanentDeliveryError(Exception):
    """Retrying cannot help: SMTP 5xx, an invalid recipient, HTTP 4xx."""


class FileAttachment(Protocol):
    filename: str
    content_type: str
    data: bytes


# Per outbox message id, the files to send along (a forwarded ticket's screenshots).
Files = Mapping[int, Sequence[FileAttachment]]
Results = dict[int, Exception | None]


class Channel(Protocol):
    async def deliver(self, messages: list[Claimed], files: Files | None = None) -> Results:
        """Deliver a batch (reusing connections); per message id, None or the failure."""
        ...
