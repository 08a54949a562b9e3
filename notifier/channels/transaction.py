"""One mail transaction on an open SMTP connection (MAIL, RCPT, DATA), and what its
failures mean for the outbox: transient (tried again later) or permanent.

What aiosmtplib's `sendmail` does, without the part that cost the most: it parses every
address with the email package's header parser twice (to validate, then to quote), and
scans the whole message twice for line endings. Our addresses are validated when they are
stored, and our bytes are 7-bit with CRLF line endings already (notifier.channels.mime),
so a plain address is written as `<address>`, and only one outside the plain form is
parsed, and refused where it cannot be sent safely. Only aiosmtplib's public names are
used (its internals differ between releases that pyproject allows).
"""

import contextlib
import email.utils
import re
from collections.abc import Sequence

import aiosmtplib
from aiosmtplib import SMTPResponse, SMTPStatus

from notifier.channels.base import FileAttachment, PermanentDeliveryError, TransientDeliveryError
from notifier.channels.mime import Composer
from notifier.channels.pipelining import SmtpConnection
from notifier.outbox.models import Claimed

# local@domain with no space, control character, quote, bracket or other special: written
# as it is. Anything else (a quoted local part, an IP-literal domain) takes the long way.
PLAIN_ADDRESS = re.compile(
    r"[^\s\x00-\x1f\x7f<>()\[\]\\\",;:@]+@[^\s\x00-\x1f\x7f<>()\[\]\\\",;:@]+"
)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What would end an address on a command line, outside a quoted local part.
UNSAFE = re.compile(r'[\s<>"]')
QUOTED_LOCAL_PART = re.compile(r'^"(?:[^"\\\r\n]|\\.)*"')
LINE_END = re.compile(rb"\r\n|\r|\n")


async def send(
    connection: SmtpConnection,
    message: Claimed,
    composer: Composer,
    attachments: Sequence[FileAttachment] = (),
) -> None:
    """Send one message. 7-bit, so no BODY=8BITMIME is needed, unless an address is outside
    ASCII, which only SMTPUTF8 carries. On a refusal the envelope is reset (RSET), so the
    connection is ready for the next message.

    The commands wait for their answers without a timer each: the caller bounds the whole
    transaction with one, and closes the connection when it runs out."""
    return_path = composer.envelope_sender(message)
    utf8 = not (return_path + message.recipient).isascii()
    options: list[bytes] = []
    if utf8:
        if not connection.supports("smtputf8"):
            raise aiosmtplib.SMTPNotSupported("a non-ASCII address needs SMTPUTF8")
        options.append(b"SMTPUTF8")
        if connection.supports("8BITMIME"):
            options.append(b"BODY=8BITMIME")
    encoding = "utf-8" if utf8 else "ascii"
    sender = envelope_address(return_path, encoding)
    recipient = envelope_address(message.recipient, encoding)
    data = composer.wire(message, attachments, utf8=utf8)
    if connection.supports("size"):  # RFC 1870: the octets DATA will carry
        options.insert(0, b"SIZE=%d" % len(data))
    envelope = (b" ".join((b"MAIL FROM:" + sender, *options)), b"RCPT TO:" + recipient)
    try:
        await _transaction(connection, envelope, data, (return_path, message.recipient))
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        # An error in resetting says less than the refusal itself.
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPException):
            await connection.commands(b"RSET")
        raise


async def _transaction(
    connection: SmtpConnection,
    envelope: tuple[bytes, bytes],
    data: bytes,
    addresses: tuple[str, str],
) -> None:
    """MAIL, RCPT and DATA (in one write where the server pipelines), then the content;
    each refusal raised as aiosmtplib's `sendmail` raises it."""
    commands = (*envelope, b"DATA")
    if connection.pipelining:
        answers = await connection.commands(*commands)
    else:
        answers = []
        for command in commands:  # each after the one before it is accepted
            answers += await connection.commands(command)
            if answers[-1].code not in ACCEPTED[len(answers) - 1]:
                break
    refusal = _refusal(answers, addresses)
    if refusal is not None:
        if len(answers) == 3 and answers[2].code == SMTPStatus.start_input:
            await connection.content(b".\r\n")  # RFC 2920 §3.1: data mode ends with a dot
        raise refusal
    response = await connection.content(dot_stuffed(data))
    if response.code != SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(response.code, response.message)


# What each of MAIL, RCPT and DATA answers when it is accepted.
ACCEPTED = (
    (SMTPStatus.completed,),
    (SMTPStatus.completed, SMTPStatus.will_forward),
    (SMTPStatus.start_input,),
)


def _refusal(answers: list[SMTPResponse], addresses: tuple[str, str]) -> Exception | None:
    """The first refusal among the answers, as aiosmtplib raises it; None if none."""
    mail, *rest = answers
    if mail.code not in ACCEPTED[0]:
        return aiosmtplib.SMTPSenderRefused(mail.code, mail.message, addresses[0])
    if rest and rest[0].code not in ACCEPTED[1]:
        refused = aiosmtplib.SMTPRecipientRefused(rest[0].code, rest[0].message, addresses[1])
        return aiosmtplib.SMTPRecipientsRefused([refused])
    if len(rest) > 1 and rest[1].code not in ACCEPTED[2]:
        return aiosmtplib.SMTPDataError(rest[1].code, rest[1].message)
    return None


def dot_stuffed(data: bytes) -> bytes:
    """Content as DATA carries it: a line starting with a period gets a second one, and a
    line with only a period ends it. A lone CR or LF (never in what mime builds) becomes
    CRLF, as aiosmtplib makes it; counting is what costs little."""
    crlf = data.count(b"\r\n")
    if data.count(b"\r") != crlf or data.count(b"\n") != crlf or not data.endswith(b"\r\n"):
        data = LINE_END.sub(b"\r\n", data)
        data += b"" if data.endswith(b"\r\n") else b"\r\n"
    stuffed = data.replace(b"\n.", b"\n..")
    return (b"." if stuffed.startswith(b".") else b"") + stuffed + b".\r\n"


def envelope_address(address: str, encoding: str) -> bytes:
    """`<address>` for MAIL FROM and RCPT TO; ValueError for one that cannot be sent."""
    if PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>".encode(encoding)
    if CONTROL.search(address):  # the parser below would quietly keep only a part of it
        raise ValueError("an address with a control character")
    parsed = email.utils.parseaddr(address)[1] or address.strip()
    if UNSAFE.search(QUOTED_LOCAL_PART.sub("", parsed, count=1)):
        raise ValueError("an address that cannot be written on a command line")
    return f"<{parsed}>".encode(encoding)


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
