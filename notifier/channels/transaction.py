"""One mail transaction on an open SMTP connection (MAIL, RCPT, DATA), and what its
failures mean for the outbox: transient (tried again later) or permanent.

What aiosmtplib's `sendmail` does, without the part that cost the most: it parses every
address with the email package's header parser twice (to validate, then to quote), and
scans the whole message twice for line endings. Our addresses are validated when they are
stored, and our bytes are 7-bit with CRLF line endings already (notifier.channels.mime),
so a plain address is written as `<address>`, and only one outside the plain form goes
through aiosmtplib's parser, which refuses what it cannot send safely.
"""

import contextlib
import re
from collections.abc import Sequence

import aiosmtplib
from aiosmtplib import SMTPStatus
from aiosmtplib.email import quote_address
from aiosmtplib.protocol import normalize_message_line_endings

from notifier.channels.base import FileAttachment, PermanentDeliveryError, TransientDeliveryError
from notifier.channels.mime import Composer
from notifier.pipeline.models import Claimed

# local@domain with no space, control character, quote, bracket or other special: written
# as it is. Anything else (a quoted local part, an IP-literal domain) takes the long way.
PLAIN_ADDRESS = re.compile(
    r"[^\s\x00-\x1f\x7f<>()\[\]\\\",;:@]+@[^\s\x00-\x1f\x7f<>()\[\]\\\",;:@]+"
)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


async def send(
    client: aiosmtplib.SMTP,
    message: Claimed,
    composer: Composer,
    attachments: Sequence[FileAttachment] = (),
) -> None:
    """Send one message. 7-bit, so no BODY=8BITMIME is needed, unless an address is outside
    ASCII, which only SMTPUTF8 carries. On a refusal the envelope is reset (RSET), so the
    connection is ready for the next message.

    The commands wait for their answers without a timer each: the caller bounds the whole
    transaction with one, and closes the connection when it runs out."""
    if client.is_ehlo_or_helo_needed:
        await client.ehlo()
    utf8 = not (composer.address + message.recipient).isascii()
    options: list[bytes] = []
    if utf8:
        if not client.supports_extension("smtputf8"):
            raise aiosmtplib.SMTPNotSupported("a non-ASCII address needs SMTPUTF8")
        options.append(b"SMTPUTF8")
        if client.supports_extension("8BITMIME"):
            options.append(b"BODY=8BITMIME")
    encoding = "utf-8" if utf8 else "ascii"
    sender = envelope_address(composer.address, encoding)
    recipient = envelope_address(message.recipient, encoding)
    data = composer.wire(message, attachments, utf8=utf8)
    if client.supports_extension("size"):  # RFC 1870: the octets DATA will carry
        options.insert(0, b"SIZE=%d" % len(data))
    try:
        addresses = (composer.address, message.recipient)
        await _transaction(client, (sender, recipient), options, data, addresses)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        # An error in resetting says less than the refusal itself.
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
            await client.rset()
        raise


async def _transaction(
    client: aiosmtplib.SMTP,
    envelope: tuple[bytes, bytes],
    options: list[bytes],
    data: bytes,
    addresses: tuple[str, str],
) -> None:
    """MAIL, RCPT and DATA, each refusal raised as aiosmtplib's `sendmail` raises it."""
    response = await client.execute_command(b"MAIL", b"FROM:" + envelope[0], *options, timeout=None)
    if response.code != SMTPStatus.completed:
        raise aiosmtplib.SMTPSenderRefused(response.code, response.message, addresses[0])
    response = await client.execute_command(b"RCPT", b"TO:" + envelope[1], timeout=None)
    if response.code not in (SMTPStatus.completed, SMTPStatus.will_forward):
        refused = aiosmtplib.SMTPRecipientRefused(response.code, response.message, addresses[1])
        raise aiosmtplib.SMTPRecipientsRefused([refused])
    await _data(client, data)


async def _data(client: aiosmtplib.SMTP, data: bytes) -> None:
    """DATA and the content, as aiosmtplib's `data` sends them, without its rewriting of
    every line ending by a regular expression (ours are CRLF already), which cost as much
    as building the message: the content is only dot-stuffed (RFC 5321 §4.5.2)."""
    response = await client.execute_command(b"DATA", timeout=None)
    if response.code != SMTPStatus.start_input:
        raise aiosmtplib.SMTPDataError(response.code, response.message)
    if client.protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    client.protocol.write(dot_stuffed(data))
    response = await client.protocol.read_response(timeout=None)
    if response.code != SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(response.code, response.message)


def dot_stuffed(data: bytes) -> bytes:
    """Content as DATA carries it: a line starting with a period gets a second one, and a
    line with only a period ends it. A lone CR or LF (never in what mime builds) becomes
    CRLF, as aiosmtplib makes it; counting is what costs little."""
    crlf = data.count(b"\r\n")
    if data.count(b"\r") != crlf or data.count(b"\n") != crlf or not data.endswith(b"\r\n"):
        data = normalize_message_line_endings(data)
    stuffed = data.replace(b"\n.", b"\n..")
    return (b"." if stuffed.startswith(b".") else b"") + stuffed + b".\r\n"


def envelope_address(address: str, encoding: str) -> bytes:
    """`<address>` for MAIL FROM and RCPT TO; ValueError for one that cannot be sent."""
    if PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>".encode(encoding)
    if CONTROL.search(address):  # the parser below would quietly keep only a part of it
        raise ValueError("an address with a control character")
    return quote_address(address).encode(encoding)


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
