"""Sending over SMTP (NOTIFIER_SMTP_URL) over a few kept connections, answering per
message id None for delivered, or a Transient/PermanentDeliveryError."""

import asyncio
import logging
import socket
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiosmtplib

from notifier.channels.base import (
    FileAttachment,
    Files,
    PermanentDeliveryError,
    Results,
    TransientDeliveryError,
)
from notifier.channels.files import composer_of
from notifier.channels.mime import Composer
from notifier.channels.pipelining import SmtpConnection
from notifier.channels.transaction import classify, send
from notifier.outbox.models import Claimed

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    use_tls: bool = False  # smtps://: TLS from the first byte
    start_tls: bool = False  # smtp+starttls://: upgrade after connecting
    username: str | None = None
    password: str | None = None
    helo_name: str | None = None  # None: this machine's FQDN, as aiosmtplib finds it


def parse_smtp_url(url: str, *, helo_name: str | None = None) -> SmtpConfig:
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
        helo_name=helo_name,
    )


def default_helo_name(sender_domain: str, fqdn: Callable[[], str] = socket.getfqdn) -> str:
    """RFC 5321 §4.1.1.1 asks the client to name itself by its fully-qualified name, so
    that is the first choice. A container's name is a bare hex label (or `localhost`),
    which strict relays refuse (Postfix reject_non_fqdn_helo_hostname) for every message;
    there the sender's domain is the name the relay is most likely to accept."""
    name = fqdn().rstrip(".")
    if "." in name and not name.startswith("localhost"):
        return name
    return sender_domain


class SmtpChannel:
    """Up to `connections` SMTP connections, kept open between batches. Every message
    waits in one queue, and a worker per connection sends what is there, so connections
    are shared by every batch in flight: one batch is sent while the next is claimed and
    the last recorded. One connection leaves a relay idle while it waits for each answer;
    a few keep it busy without looking like a flood. A worker ends when the queue is
    empty, leaving its connection open for the next."""

    def __init__(
        self,
        config: SmtpConfig,
        sender: Composer | str,
        *,
        timeout: float = 30.0,
        connections: int = 8,
    ) -> None:
        self._config = config
        self._composer = composer_of(sender)
        self._timeout = timeout
        self._connections = connections
        self._idle: list[SmtpConnection] = []
        self._queue: deque[_Item] = deque()
        self._workers: set[asyncio.Task[None]] = set()

    async def deliver(self, messages: list[Claimed], files: Files | None = None) -> Results:
        loop = asyncio.get_running_loop()
        items = [
            _Item(message, (files or {}).get(message.id, ()), loop.create_future())
            for message in messages
        ]
        self._queue.extend(items)
        # A worker whose queue ran dry is done at once, but leaves the set a step later.
        while self._working() < min(self._connections, len(self._queue)):
            worker = asyncio.create_task(self._work())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        try:
            outcomes = await asyncio.gather(*(item.outcome for item in items))
        finally:
            for item in items:  # cancelled: what was not taken yet stays unsent
                item.outcome.cancel()
        return {item.message.id: outcome for item, outcome in zip(items, outcomes, strict=True)}

    def _working(self) -> int:
        return sum(not worker.done() for worker in self._workers)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        await asyncio.gather(*(connection.quit() for connection in idle))

    async def _work(self) -> None:
        connection: SmtpConnection | None = None
        fresh = False
        try:
            while self._queue:
                item = self._queue.popleft()
                if item.outcome.done():
                    continue
                if connection is None or not connection.is_connected:
                    taken, fresh = await self._take()
                    if isinstance(taken, Exception):
                        connection = None
                        self._refused(item, taken)
                        return
                    connection = taken
                try:
                    outcome = await self._send(connection, item.message, item.attachments)
                except _Dropped as dropped:
                    connection.close()
                    connection = None
                    # A kept connection the server closed meanwhile: once more, anew. On a
                    # fresh one it is the server's answer, retried later like any other.
                    outcome = dropped.failure if fresh else await self._retry(item)
                except Exception as exc:  # a bug of ours: no message waits forever for it
                    log.exception("sending one message failed")
                    outcome = TransientDeliveryError(f"{type(exc).__name__}: {exc}")
                fresh = False
                if not item.outcome.done():
                    item.outcome.set_result(outcome)
        finally:
            if connection is not None and connection.is_connected:
                self._idle.append(connection)

    async def _take(self) -> tuple[SmtpConnection | Exception, bool]:
        """A kept connection, or a new one (fresh: the server's next answer is news)."""
        if self._idle:
            return self._idle.pop(), False
        return await self._connect(), True

    def _refused(self, item: "_Item", failure: Exception) -> None:
        """No new connection. While another worker is at it (a relay that allows a client
        fewer connections than ours), the item is left to it; with none, the server is
        away and what waits would meet the same: tried later."""
        if self._working() > 1:  # this worker counts itself until it returns
            self._queue.appendleft(item)
        else:
            self._fail_waiting(item, failure)

    def _fail_waiting(self, item: "_Item", failure: Exception) -> None:
        for waiting in (item, *self._queue):
            if not waiting.outcome.done():
                waiting.outcome.set_result(failure)
        self._queue.clear()

    async def _retry(self, item: "_Item") -> Exception | None:
        connection = await self._connect()
        if isinstance(connection, Exception):
            return connection
        try:
            return await self._send(connection, item.message, item.attachments)
        except _Dropped as dropped:
            return dropped.failure
        finally:
            if connection.is_connected:
                self._idle.append(connection)

    async def _connect(self) -> SmtpConnection | Exception:
        """A new connection, greeted, or why there is none."""
        config = self._config
        smtp = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.use_tls,
            start_tls=config.start_tls,
            username=config.username,
            password=config.password,
            local_hostname=config.helo_name,
            timeout=self._timeout,
        )
        try:
            return await SmtpConnection.open(smtp)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            smtp.close()
            return classify(exc)

    async def _send(
        self,
        connection: SmtpConnection,
        message: Claimed,
        attachments: Sequence[FileAttachment],
    ) -> Exception | None:
        try:
            async with asyncio.timeout(self._timeout):  # one timer for the whole transaction
                await send(connection, message, self._composer, attachments)
        except TimeoutError:
            connection.close()  # the answer given up on would be read as the next command's
            return TransientDeliveryError(f"the mail server did not answer in {self._timeout:g} s")
        except ValueError as exc:
            return PermanentDeliveryError(f"cannot write the email: {exc}")
        except aiosmtplib.SMTPNotSupported as exc:  # the relay lacks what this message needs
            return PermanentDeliveryError(f"the mail server cannot take it: {exc}")
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as exc:
            raise _Dropped(classify(exc)) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            return classify(exc)
        return None


@dataclass(frozen=True, slots=True)
class _Item:
    message: Claimed
    attachments: Sequence[FileAttachment]
    outcome: "asyncio.Future[Exception | None]"


class _Dropped(Exception):
    """The connection was gone (not an answer of the server's)."""

    def __init__(self, failure: Exception) -> None:
        super().__init__(str(failure))
        self.failure = failure
