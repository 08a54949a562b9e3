"""Without NOTIFIER_SMTP_URL, emails are written as .eml files, so a new user sees them
with no mail server."""

import asyncio
import os
import re
from collections.abc import Sequence
from pathlib import Path

from notifier.channels.base import FileAttachment, Files, Results, TransientDeliveryError
from notifier.channels.mime import Composer
from notifier.outbox.models import Claimed


def composer_of(sender: Composer | str) -> Composer:
    """A bare address (tests, benchmarks): the default display name, no DKIM."""
    return sender if isinstance(sender, Composer) else Composer(sender)


class FileChannel:
    """Writes each email to `<mail_dir>/<message id>.eml`. The name is the Message-ID:
    sending again replaces, never doubles."""

    def __init__(self, directory: Path, sender: Composer | str) -> None:
        self._directory = directory
        self._composer = composer_of(sender)

    async def deliver(self, messages: list[Claimed], files: Files | None = None) -> Results:
        return await asyncio.to_thread(self._write_all, messages, files or {})

    def _write_all(self, messages: list[Claimed], files: Files) -> Results:
        # Emails carry personal data: only the service's user may read them.
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        results: Results = {}
        for message in messages:
            try:
                self._write(message, files.get(message.id, ()))
                results[message.id] = None
            except OSError as exc:
                results[message.id] = TransientDeliveryError(f"cannot write .eml: {exc}")
        return results

    def _write(self, message: Claimed, files: Sequence[FileAttachment]) -> None:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", self._composer.message_id(message).strip("<>"))
        path = self._directory / f"{name}.eml"
        partial = path.with_suffix(".eml.partial")
        wire = self._composer.wire(message, files, utf8=not message.recipient.isascii())
        data = wire.replace(b"\r\n", b"\n")  # a file's lines end as this system's do
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        partial.replace(path)  # whole files only, for whoever watches the folder
