"""What a mail that came in says: whether it is automatic (RFC 3834 and what mail clients
really send), its text, its images. Shared by every mailbox of `notifier inbound`."""

import html
import re
from email.message import EmailMessage
from email.utils import parseaddr

MAX_IMAGES = 5
_AWAY = re.compile(
    r"^\s*(?:automatiskt svar|autosvar|frånvaro|out of office|automatic reply|auto[- ]?reply"
    r"|abwesenheit|undeliverable|olevererbar|delivery status notification)",
    re.IGNORECASE,
)


def automatic(headers: EmailMessage, mail_from: str, own: frozenset[str]) -> str | None:
    """Why a message is automatic, or None."""
    sender = parseaddr(str(headers.get("From", "")))[1].lower()
    if not mail_from:
        return "a bounce (empty envelope sender)"
    if sender in own or mail_from.lower() in own:
        return "our own mail, come back"
    if str(headers.get("Auto-Submitted", "no")).strip().lower() != "no":
        return "Auto-Submitted"
    if "X-Autoreply" in headers or "X-Autorespond" in headers:
        return "X-Autoreply"
    if str(headers.get("Precedence", "")).strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return "Precedence"
    if _AWAY.match(str(headers.get("Subject", ""))):
        return "an out-of-office subject"
    return None


def body_of(message: EmailMessage) -> str:
    """The plain text, or the HTML's text where the client sent only HTML."""
    part = message.get_body(preferencelist=("plain", "html"))
    if not isinstance(part, EmailMessage):
        return ""
    content = str(part.get_content())
    if part.get_content_subtype() == "html":
        content = re.sub(r"(?is)<(script|style).*?</\1>|<br\s*/?>|</p>", "\n", content)
        content = html.unescape(re.sub(r"<[^>]+>", "", content))
    return content


def images_of(message: EmailMessage) -> list[bytes]:
    found = []
    for part in message.iter_attachments():
        if isinstance(part, EmailMessage) and part.get_content_maintype() == "image":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                found.append(data)
    return found[:MAX_IMAGES]
