"""The bytes an outbox message becomes on the wire (or on disk), written directly.

Our emails have one shape: a plain-text part, mostly an HTML alternative, now and then
attachments. Building them as EmailMessage objects and flattening those costs most of the
sender's time (every header parsed into a token tree and folded again, every part a
message of its own), so they are written line by line, and the email package is asked
only for what it does better than a line of ours: encoding a header that is not plain
ASCII, and an attachment's part.

Everything written is 7-bit, so any relay takes it, with or without 8BITMIME: text parts
are quoted-printable (binascii, in C; lines within RFC 2045's 76, longer ones score
MIME_QP_LONG_LINE), and header text outside ASCII is RFC 2047 encoded words, folded at
RFC 5322's 78 (an encoded word's line may not pass 76). Text headers (a subject, a name)
fold at their spaces at 78 too; the others fold only past the 998 limit: a long
List-Unsubscribe URL has no space to fold at, and folding it at 78 turned it into an
encoded word clients cannot use. Only an address outside ASCII needs more, SMTPUTF8 and
its header as UTF-8 (`utf8=True`).
"""

import binascii
import functools
import secrets
import time
from collections.abc import Callable, Sequence
from email import policy
from email.headerregistry import Address
from email.message import MIMEPart
from email.utils import format_datetime

from domain.sqltypes import utcnow
from notifier.channels.base import FileAttachment
from notifier.channels.signing import DkimKey
from notifier.outbox.models import Claimed

# Encodes the headers that are not plain ASCII, and attachment parts.
WIRE = policy.default.clone(max_line_length=78, linesep="\r\n")
LINE = 78  # RFC 5322 §2.1.1: a line SHOULD stay within 78 characters
# Headers of words, folded at their spaces; others (URLs, ids) are kept on one line.
TEXT_HEADERS = frozenset({"Subject", "From", "To", "Reply-To"})
# No out-of-office or other auto-reply to a no-reply address (RFC 3834; Exchange reads
# only its own header). A message a person wrote says `Auto-Submitted: no` in its own
# headers and goes without both.
AUTOMATIC = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}
CRLF = b"\r\n"


class Composer:
    """Who the emails are from: the From header, the Message-ID domain and the DKIM key
    follow the one sender address (NOTIFIER_MAIL_FROM); so does the envelope sender,
    unless `return_path` gives each message its own (notifier.channels.return_path)."""

    def __init__(
        self,
        address: str,
        *,
        display_name: str = "Migrationsverket",
        dkim: DkimKey | None = None,
        return_path: Callable[[Claimed], str] | None = None,
    ) -> None:
        username, _, domain = address.rpartition("@")
        self.address = address
        self.domain = domain
        self.from_header = str(Address(display_name, username, domain))
        self._dkim = dkim
        self._return_path = return_path

    def envelope_sender(self, message: Claimed) -> str:
        """MAIL FROM, which receivers keep as Return-Path and bounce to."""
        return self.address if self._return_path is None else self._return_path(message)

    def message_id(self, message: Claimed) -> str:
        """The outbox's unique id on the left, the sender's domain on the right (RFC 5322
        §3.6.4): deterministic, so a message sent twice after a lost acknowledgement is
        one to mail clients."""
        unique = message.message_id.strip("<>").rpartition("@")
        return f"<{unique[0] or unique[2]}@{self.domain}>"

    def wire(
        self,
        message: Claimed,
        attachments: Sequence[FileAttachment] = (),
        *,
        utf8: bool = False,
    ) -> bytes:
        """The email as sent (or written), with CRLF line ends and DKIM-signed over
        exactly these bytes. ValueError: a header value that would break the email."""
        fields = {
            "From": self.from_header,
            "To": message.recipient,
            "Subject": message.subject or "",
            "Date": _date(int(time.time())),
            "Message-ID": self.message_id(message),
            **(AUTOMATIC if message.headers.get("Auto-Submitted") != "no" else {}),
            **message.headers,
            "MIME-Version": "1.0",
        }
        head = b"".join(header(name, value, utf8=utf8) for name, value in fields.items())
        data = head + _body(message.body_text or "", message.body_html, attachments)
        return data if self._dkim is None else self._dkim.sign(data, linesep=CRLF)


def header(name: str, value: str, *, utf8: bool = False) -> bytes:
    """One header line; plain ASCII as it is, anything else encoded (or, for SMTPUTF8,
    as UTF-8) by the email package. A line break in a value would start a header of
    its own: refused."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"the {name} header holds a line break")
    if (value.isascii() or utf8) and len(name) + len(value.encode()) < 997:
        line = f"{name}: {value}"
        if name in TEXT_HEADERS and len(line) > LINE:
            line = _folded(line)
        return f"{line}\r\n".encode()
    return _encoded(name, value)


def _folded(line: str) -> str:
    """`line` broken before spaces into lines of at most 78 characters where the words
    allow (a longer word keeps its own line: it cannot be split)."""
    lines = [""]
    for word in line.split(" "):
        if lines[-1] and len(lines[-1]) + 1 + len(word) > LINE:
            lines.append("")
        lines[-1] += f" {word}" if lines[-1] or len(lines) > 1 else word
    return "\r\n".join(lines)


@functools.lru_cache(maxsize=256)
def _encoded(name: str, value: str) -> bytes:
    """The same few values (a subject, a display name) come back for a whole batch."""
    folded: str = WIRE.header_factory(name, value).fold(policy=WIRE)
    return folded.encode("ascii")


@functools.lru_cache(maxsize=2)
def _date(second: int) -> str:
    return format_datetime(utcnow())


def _body(text: str, html: str | None, attachments: Sequence[FileAttachment]) -> bytes:
    """Content-Type onwards: the text, its HTML alternative, the attachments."""
    content = _text("plain", text)
    if html:
        content = _multipart("alternative", [content, _text("html", html)])
    if attachments:
        content = _multipart("mixed", [content, *map(_attachment, attachments)])
    return content


def _text(subtype: str, text: str) -> bytes:
    text = text.replace("\r\n", "\n")
    # A lone CR: binascii's own rules for it, on the whole text.
    whole = "\r" in text
    encoded = binascii.b2a_qp(text.encode(), istext=True) if whole else _quoted_lines(text)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode() + encoded.replace(b"\n", CRLF)


def _quoted_lines(text: str) -> bytes:
    """binascii.b2a_qp of the whole text, byte for byte, a line at a time: quoted-printable
    looks no further than a line's end, and the emails of one event differ only in the
    lines with the recipient's links, so the others are encoded once (half the time)."""
    *lines, last = text.split("\n")
    return b"".join([*(_quoted_line(line + "\n") for line in lines), _quoted_line(last)])


@functools.lru_cache(maxsize=4096)
def _quoted_line(line: str) -> bytes:
    return binascii.b2a_qp(line.encode(), istext=True)


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    # Never inside a part: quoted-printable writes "=" as =3D, base64 has no "_".
    boundary = b"==_" + secrets.token_hex(12).encode()
    head = b'Content-Type: multipart/%s; boundary="%s"\r\n\r\n' % (subtype.encode(), boundary)
    separated = b"".join(b"--%s\r\n%s\r\n" % (boundary, part) for part in parts)
    return head + separated + b"--%s--\r\n" % boundary


def _attachment(file: FileAttachment) -> bytes:
    part = MIMEPart(policy=WIRE)
    maintype, _, subtype = file.content_type.partition("/")
    part.set_content(
        file.data, maintype=maintype, subtype=subtype or "octet-stream", filename=file.filename
    )
    return part.as_bytes(policy=WIRE)
