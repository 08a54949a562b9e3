"""What a mail that came in says: its sender, subject, text and screenshots, and whether
it is automatic (RFC 3834 and what mail clients really send). Shared by every mailbox of
`notifier inbound`; the server reads each message once (`read`, in a worker thread) and
every mailbox gets the same checked message.

Mail is outside input like any form: its text gets the text rule (control characters out,
lines kept), its sizes are capped, and what cannot be read is a `Refusal` with a fixed
ASCII reply, never an error.
"""

import html
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import errors, policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr

from domain.text import printable
from routing.ticketing import uploads

MAX_IMAGES = 5
# Mail clients nest three or four deep (mixed > related > alternative, a forwarded
# message inside); 100 parts hold any real reply. Beyond, a message is built to hurt.
MAX_PARTS = 100
MAX_DEPTH = 8
MAX_SUBJECT = 200
MAX_SENDER = 128  # the trail's actor column
NULL_SENDERS = frozenset({"", "<>"})  # aiosmtpd hands the null reverse-path as "<>"

CANNOT_READ = "554 5.6.0 The message could not be read"
TOO_COMPLEX = "554 5.6.0 Too many MIME parts or too deeply nested"
UNKNOWN_CHARSET = "554 5.6.0 Unknown character set"
BAD_FROM = "550 5.1.7 The From address is missing or malformed"

# What Outlook and others really mean by iso-8859-1: Windows-1252, whose quotes and
# dashes would otherwise become C1 control characters (WHATWG Encoding does the same).
_AS_CLIENTS_READ = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252"}
_AS_CLIENTS_READ |= {"us-ascii": "cp1252", "ascii": "cp1252", "iso_8859-1": "cp1252"}
# The same for a header's encoded words, which the email package decodes as latin-1.
_C1_AS_CP1252 = {
    code: bytes([code]).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)  # undefined in cp1252: removed as controls
}
_REPLY_PREFIX = r"(?:(?:re|sv|vs|aw|antw|fw|fwd|vb)\s*:\s*)*"
_AWAY = re.compile(
    r"^\s*" + _REPLY_PREFIX + r"(?:automatiskt svar|autosvar|frånvaro|out of office"
    r"|automatic reply|auto[- ]?reply|autoreply|abwesenheit|undeliverable|undelivered mail"
    r"|olevererbar|olevererat|delivery status notification|mail delivery (?:failed|system)"
    r"|returned mail|delivery failure|non[- ]?delivery|leveransstatus|kunde inte levereras)",
    re.IGNORECASE,
)
_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "no-reply", "noreply"})
_DELIMITER = re.compile(rb"^--[^\r\n]*", re.MULTILINE)
_BOUNDARY = re.compile(rb'boundary\s*=\s*"?([^"\r\n;]+)"?', re.IGNORECASE)


class Refusal(Exception):
    """A message or address refused for good; `reply` is the fixed SMTP reply."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass
class Screenshots:
    kept: list[uploads.Screenshot] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


_screenshots: "weakref.WeakKeyDictionary[EmailMessage, Screenshots]" = weakref.WeakKeyDictionary()


def read(content: bytes) -> EmailMessage:
    """The message, parsed once and checked; its text and images decoded (CPU: call it
    off the event loop). Raises Refusal."""
    if _declared_parts(content) > MAX_PARTS:
        raise Refusal(TOO_COMPLEX)
    try:
        message = BytesParser(policy=policy.default).parsebytes(content)
        parts = sum(1 for _ in _walk(message))
    except RecursionError:
        raise Refusal(TOO_COMPLEX) from None
    if parts > MAX_PARTS or not isinstance(message, EmailMessage):
        raise Refusal(TOO_COMPLEX)
    body_of(message)  # an unreadable charset is refused here, before any mailbox
    _screenshots[message] = _decode_images(message)
    return message


def _declared_parts(content: bytes) -> int:
    """Delimiter lines of the boundaries the message declares: a cheap count before the
    parser builds an object per part (100,000 parts took it 26 s)."""
    boundaries = {b"--" + found.strip() for found in _BOUNDARY.findall(content)}
    if len(boundaries) > MAX_DEPTH * 4:
        return MAX_PARTS + 1
    lines = _DELIMITER.findall(content)
    return sum(1 for line in lines if line in boundaries or line[:-2] in boundaries)


def _walk(part: Message, depth: int = 0) -> Iterator[Message]:
    if depth > MAX_DEPTH:
        raise Refusal(TOO_COMPLEX)
    yield part
    if part.is_multipart():
        for inner in part.get_payload():
            if isinstance(inner, Message):
                yield from _walk(inner, depth + 1)


def clean(value: str, *, multiline: bool = False) -> str:
    """Text from mail under the text rule: control characters out (NUL, ESC, C1), lines
    kept where `multiline`, else one line of single spaces."""
    value = value.encode("utf-8", "replace").decode("utf-8")  # lone surrogates out
    lines = re.split(r"\r\n|[\r\n\u2028\u2029\x85]", value)
    if multiline:
        return "\n".join(printable(line) for line in lines)
    return " ".join(printable(" ".join(lines)).split())


def header(message: EmailMessage, name: str) -> str:
    """A header's decoded text, or its raw text where it does not parse."""
    try:
        return str(message.get(name, ""))
    except (errors.MessageError, ValueError, IndexError, AttributeError, TypeError):
        return next((str(v) for k, v in message.raw_items() if k.lower() == name.lower()), "")


def subject_of(message: EmailMessage) -> str | None:
    """One line, at most MAX_SUBJECT characters; None when there is none."""
    subject = header(message, "Subject").translate(_C1_AS_CP1252)
    return clean(subject)[:MAX_SUBJECT] or None


def sender_of(message: EmailMessage) -> str:
    """The one address of From, lower case. Raises Refusal when there is none."""
    try:
        found = message.get("From")
        addresses = list(found.addresses) if found is not None else []
    except (errors.MessageError, ValueError, IndexError, AttributeError, TypeError):
        raise Refusal(BAD_FROM) from None
    if len(addresses) != 1:
        raise Refusal(BAD_FROM)
    found_address = addresses[0]
    address = str(found_address.addr_spec).lower()
    if not (found_address.username and found_address.domain) or len(address) > MAX_SENDER:
        raise Refusal(BAD_FROM)
    if clean(address) != address or " " in address:
        raise Refusal(BAD_FROM)
    return address


def automatic(headers: EmailMessage, mail_from: str, own: frozenset[str]) -> str | None:
    """Why a message is automatic, or None."""
    sender = parseaddr(header(headers, "From"))[1].lower()
    if mail_from.strip() in NULL_SENDERS:
        return "a bounce (empty envelope sender)"
    if sender in own or mail_from.lower() in own:
        return "our own mail, come back"
    if sender.partition("@")[0] in _DAEMONS:
        return "a mail system's address"
    if header(headers, "Auto-Submitted").strip().lower() not in {"", "no"}:
        return "Auto-Submitted"
    if any(name in headers for name in ("X-Autoreply", "X-Autorespond", "X-Autogenerated")):
        return "X-Autoreply"
    if header(headers, "Precedence").strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return "Precedence"
    if headers.get_content_type() == "multipart/report":
        return "a delivery or read report"
    if _AWAY.match(header(headers, "Subject")):
        return "an out-of-office subject"
    return None


def body_of(message: EmailMessage) -> str:
    """The plain text, or the HTML's text where the client sent only HTML; cleaned."""
    part = message.get_body(preferencelist=("plain", "html"))
    if not isinstance(part, EmailMessage):
        return ""
    content = _decoded(part)
    if part.get_content_subtype() == "html":
        content = re.sub(r"(?is)<(script|style).*?</\1>|<br\s*/?>|</p>", "\n", content)
        content = html.unescape(re.sub(r"<[^>]+>", "", content))
    return clean(content, multiline=True)


def _decoded(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = str(part.get_content_charset("us-ascii")).lower()
    try:
        return payload.decode(_AS_CLIENTS_READ.get(charset, charset), errors="replace")
    except LookupError:  # unknown, or no text encoding at all (rot13, hex)
        raise Refusal(UNKNOWN_CHARSET) from None


def images_of(message: EmailMessage) -> list[bytes]:
    """The attached images' bytes, at most MAX_IMAGES."""
    found = []
    for part in message.iter_attachments():
        if isinstance(part, EmailMessage) and part.get_content_maintype() == "image":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                found.append(data)
    return found[:MAX_IMAGES]


def screenshots_of(message: EmailMessage) -> Screenshots:
    """The images re-encoded, decoded once by `read` (here, for a message it did not read)."""
    if message not in _screenshots:
        _screenshots[message] = _decode_images(message)
    return _screenshots[message]


def _decode_images(message: EmailMessage) -> Screenshots:
    found = Screenshots()
    for data in images_of(message):
        checked = uploads.check(data)
        if isinstance(checked, str):
            found.refused.append(checked)
        else:
            found.kept.append(checked)
    return found
