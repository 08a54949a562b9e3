"""The "email" channel: SMTP when NOTIFIER_SMTP_URL is set, else .eml files on disk.

Both take outbox messages whose subject and bodies are filled in (notifications are
rendered by the sender just before, ticket forwards arrive that way) and answer per
message id: None for delivered, or a Transient/PermanentDeliveryError.
"""

import asyncio
import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
from aiosmtplib.email import extract_recipients, extract_sender

from domain.sqltypes import utcnow
from notifier.channels.base import (
    FileAttachment,
    Files,
    PermanentDeliveryError,
    Results,
    TransientDeliveryError,
    Transport,
)
from notifier.pipeline.models import OutboxMessage
from notifier.pipeline.outbox import MESSAGE_ID_DOMAIN
from notifier.settings import Settings

log = logging.getLogger(__name__)


def message_id_header(message: OutboxMessage) -> str:
    if message.message_id.startswith("<"):
        return message.message_id
    return f"<{message.message_id}@{MESSAGE_ID_DOMAIN}>"


class HeaderClasses(HeaderRegistry):
    """CPython's registry builds a new class for every header it parses: 15 µs each, and
    classes pile up for the garbage collector (building an email took 2.6 ms in a long
    run, 0.7 ms fresh). The same classes, built once per header name."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        if key not in self._classes:
            self._classes[key] = super().__getitem__(name)
        return self._classes[key]


# Fold only past RFC 5322's hard limit: the default 78 would turn a long List-Unsubscribe
# URL, which has no space to fold at, into an encoded word that mail clients cannot use.
POLICY = policy.default.clone(max_line_length=998, header_factory=HeaderClasses())
# Parsing header values is much of the cost of building an email; these take the same
# value for a whole batch (the second, for Date), so each value is parsed once.
BATCH_HEADERS = frozenset({"From", "Date", "List-Unsubscribe-Post"})


@functools.lru_cache(maxsize=64)
def _parsed_header(name: str, value: str) -> Any:
    """A parsed header is immutable, so one object can serve every message."""
    return POLICY.header_factory(name, value)


def _header(name: str, value: str) -> Any:
    return _parsed_header(name, value) if name in BATCH_HEADERS else value


def build_email(
    message: OutboxMessage, sender: str, attachments: Sequence[FileAttachment] = ()
) -> EmailMessage:
    email = EmailMessage(policy=POLICY)
    email["From"] = _header("From", sender)
    email["To"] = message.recipient
    email["Subject"] = message.subject or ""
    email["Date"] = _header("Date", format_datetime(utcnow()))
    # Deterministic: a message sent twice after a lost acknowledgement is one to clients.
    email["Message-ID"] = message_id_header(message)
    for name, value in message.headers.items():
        email[name] = _header(name, value)
    email.set_content(message.body_text or "")
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    for file in attachments:
        maintype, _, subtype = file.content_type.partition("/")
        email.add_attachment(
            file.data, maintype=maintype, subtype=subtype or "octet-stream", filename=file.filename
        )
    return email


class FileTransport:
    """Writes each email to `<mail_dir>/<message id>.eml`, so a new user sees emails with
    no mail server. The name is the Message-ID: sending again replaces, never doubles."""

    def __init__(self, directory: Path, sender: str) -> None:
        self._directory = directory
        self._sender = sender

    async def deliver(self, messages: list[OutboxMessage], files: Files | None = None) -> Results:
        return await asyncio.to_thread(self._write_all, messages, files or {})

    def _write_all(self, messages: list[OutboxMessage], files: Files) -> Results:
        self._directory.mkdir(parents=True, exist_ok=True)
        results: Results = {}
        for message in messages:
            assert message.id is not None
            try:
                self._write(message, files.get(message.id, ()))
                results[message.id] = None
            except OSError as exc:
                results[message.id] = TransientDeliveryError(f"cannot write .eml: {exc}")
        return results

    def _write(self, message: OutboxMessage, files: Sequence[FileAttachment]) -> None:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", message_id_header(message).strip("<>"))
        path = self._directory / f"{name}.eml"
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(build_email(message, self._sender, files).as_bytes())
        partial.replace(path)  # whole files only, for whoever watches the folder


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    use_tls: bool = False  # smtps://: TLS from the first byte
    start_tls: bool = False  # smtp+starttls://: upgrade after connecting
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    schemes = {
        "smtp": (False, False, 25),
        "smtp+starttls": (False, True, 587),
        "smtps": (True, False, 465),
    }
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError("NOTIFIER_SMTP_URL: use smtp://, smtp+starttls:// or smtps://host:port")
    use_tls, start_tls, default_port = schemes[parts.scheme]
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or default_port,
        use_tls=use_tls,
        start_tls=start_tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class SmtpTransport:
    """One SMTP connection per batch, reused for every message in it."""

    def __init__(
        self,
        config: SmtpConfig,
        sender: str,
        *,
        timeout: float = 30.0,
    ) -> None:
        self._config = config
        self._sender = sender
        self._timeout = timeout

    async def deliver(self, messages: list[OutboxMessage], files: Files | None = None) -> Results:
        results: Results = {}
        files = files or {}
        client: aiosmtplib.SMTP | None = None
        try:
            for message in messages:
                assert message.id is not None
                if client is None or not client.is_connected:
                    client, failure = await self._connect()
                    if failure is not None:
                        # The server is away: the rest of the batch waits for the next try.
                        results.update(
                            {m.id: failure for m in messages if m.id and m.id not in results}
                        )
                        return results
                results[message.id] = await self._send(client, message, files.get(message.id, ()))
        finally:
            if client is not None and client.is_connected:
                await _quit(client)
        return results

    async def _connect(self) -> tuple[aiosmtplib.SMTP, Exception | None]:
        config = self._config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.use_tls,
            start_tls=config.start_tls,
            username=config.username,
            password=config.password,
            timeout=self._timeout,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return client, classify(exc)
        return client, None

    async def _send(
        self, client: aiosmtplib.SMTP, message: OutboxMessage, files: Sequence[FileAttachment]
    ) -> Exception | None:
        try:
            await send(client, build_email(message, self._sender, files))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return classify(exc)
        return None


async def send(client: aiosmtplib.SMTP, email: EmailMessage) -> None:
    """What `client.send_message` does (our emails have no Bcc), but flattened with POLICY:
    send_message uses email.policy.SMTP, which folds at 78 characters and so turned a long
    List-Unsubscribe URL into an encoded word on the wire. It is also twice as fast."""
    sender = extract_sender(email)
    recipients = extract_recipients(email)
    if sender is None or not recipients:
        raise ValueError("an email needs a From and a To header")
    if client.is_ehlo_or_helo_needed:
        await client.ehlo()
    options: list[str] = []
    wire = POLICY.clone(linesep="\r\n")
    if not (sender + "".join(recipients)).isascii():
        if not client.supports_extension("smtputf8"):
            raise aiosmtplib.SMTPNotSupported("a non-ASCII address needs SMTPUTF8")
        options.append("SMTPUTF8")
        wire = wire.clone(utf8=True)
    if client.supports_extension("8BITMIME"):
        options.append("BODY=8BITMIME")
    else:
        wire = wire.clone(cte_type="7bit")
    await client.sendmail(sender, recipients, email.as_bytes(policy=wire), mail_options=options)


def classify(exc: Exception) -> Exception:
    """Transient: no connection, a timeout, a 4xx. Permanent: a 5xx, a refused recipient."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [error.code for error in exc.recipients]
        reason = "; ".join(f"{e.code} {e.message}" for e in exc.recipients)
        if codes and all(400 <= code < 500 for code in codes):
            return TransientDeliveryError(f"recipient deferred: {reason}")
        return PermanentDeliveryError(f"recipient refused: {reason}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"SMTP {exc.code} {exc.message}"
        if 500 <= exc.code < 600:
            return PermanentDeliveryError(text)
        return TransientDeliveryError(text)
    return TransientDeliveryError(f"{type(exc).__name__}: {exc}")


async def _quit(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        client.close()


def email_transport(settings: Settings) -> Transport:
    if settings.smtp_url:
        config = parse_smtp_url(settings.smtp_url)
        return SmtpTransport(config, settings.mail_from, timeout=settings.smtp_timeout)
    return FileTransport(settings.mail_dir, settings.mail_from)
