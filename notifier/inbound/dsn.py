"""What a mail that came back to a bounce address says: a hard bounce, a soft one, or
nothing we count (an out-of-office, a success notice, anything else). Pure: one message
in, one verdict out.

- RFC 3464 delivery status notifications (`multipart/report; report-type=delivery-status`,
  what Postfix, Exim, Gmail, Office 365 and most servers send): a recipient block with
  `Action: failed` and `Status: 5.x.x` is hard; `Action: delayed`, or a `4.x.x` status,
  soft. `delivered`, `relayed` and `expanded` are no bounce.
- The plain-text bounces servers still send (qmail's "failure notice", old Exchange's
  "Undeliverable:" with `#550 5.1.1 …##`, Exim's "Mail delivery failed"): only from a
  mailer daemon, or with a bounce's subject, and then read from the status code in the
  text (RFC 3463 `5.1.1`, else the SMTP reply `550`), else from the words.

An auto-reply comes to the return path too (RFC 3834 §4 sends it there): it names no
delivery status and is not from a mailer daemon, so it is nothing.
"""

import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.utils import parseaddr

from notifier.inbound.mail import body_of

ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
BASIC = re.compile(r"(?<!\d)([45])\d\d(?=[ -])")
ADDRESS = re.compile(r"<?[^\s<>\"',;:()\[\]]+@[^\s<>\"',;:()\[\]]+>?")
DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|returned mail|failure notice|delivery (?:status notification"
    r"|failure|has failed)|mail delivery (?:failed|system)|non remis|unzustellbar"
    r"|olevererbar|kunde inte levereras|delayed mail|warning: could not send",
    re.IGNORECASE,
)
# Where a plain-text bounce starts quoting the message it returns: our own text (a
# diarienummer, an amount) must never be read as a status.
QUOTED = re.compile(
    r"^.*(?:copy of the (?:original )?message|original message|message headers follow"
    r"|returned message|undelivered message|rfc822).*$",
    re.IGNORECASE | re.MULTILINE,
)
HARD_WORDS = re.compile(
    r"permanent (?:error|failure)|i've given up|could not be delivered|couldn't be delivered"
    r"|delivery has failed|wasn't able to deliver|does not exist|user unknown|no such user",
    re.IGNORECASE,
)
SOFT_WORDS = re.compile(
    r"temporary (?:error|failure)|has been delayed|still being retried|will (?:continue|keep)"
    r" (?:trying|to try)|not yet been delivered|mailbox (?:is )?full|over quota",
    re.IGNORECASE,
)
MAX_DIAGNOSTIC = 300


@dataclass(frozen=True, slots=True)
class Bounce:
    hard: bool
    status: str  # RFC 3463, e.g. "5.1.1"
    diagnostic: str  # what the receiving side said, any address in it masked
    recipient: str | None = None  # the DSN's Final-Recipient, lower case, when it names one


def read(message: EmailMessage, mail_from: str = "") -> Bounce | None:
    """The bounce this message reports, or None if it reports none."""
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            return _from_report(part)
    if _from_daemon(message, mail_from):
        return _from_text(body_of(message))
    return None


def _from_report(part: Message) -> Bounce | None:
    blocks = part.get_payload()
    if not isinstance(blocks, list):
        return None
    recipients = [block for block in blocks[1:] if isinstance(block, Message)]
    verdicts = [verdict for block in recipients if (verdict := _recipient(block))]
    hard = [verdict for verdict in verdicts if verdict.hard]
    return next(iter(hard or verdicts), None)


def _recipient(block: Message) -> Bounce | None:
    action = _field(block, "Action").lower()
    found = ENHANCED.search(_field(block, "Status"))
    if action not in {"failed", "delayed"}:
        return None
    status = found.group(0) if found else ("5.0.0" if action == "failed" else "4.0.0")
    diagnostic = _field(block, "Diagnostic-Code").partition(";")
    text = diagnostic[2] or diagnostic[0] or f"{action} ({status})"
    recipient = _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
    return Bounce(
        hard=action == "failed" and status.startswith("5"),
        status=status,
        diagnostic=mask(text),
        recipient=parseaddr(recipient.partition(";")[2])[1].lower() or None,
    )


def _field(block: Message, name: str) -> str:
    return " ".join(str(block.get(name, "")).split())


def _from_daemon(message: EmailMessage, mail_from: str) -> bool:
    sender = parseaddr(str(message.get("From", "")))[1].lower().partition("@")[0]
    if mail_from and sender not in DAEMONS:
        return False
    return sender in DAEMONS or bool(BOUNCE_SUBJECT.search(str(message.get("Subject", ""))))


def _from_text(body: str) -> Bounce | None:
    text = QUOTED.split(body, maxsplit=1)[0]
    for line in text.splitlines():
        if found := ENHANCED.search(line):
            if found.group(1) == "2":
                continue
            return Bounce(found.group(1) == "5", found.group(0), mask(line))
    for line in text.splitlines():
        if found := BASIC.search(line):
            return Bounce(found.group(1) == "5", f"{found.group(1)}.0.0", mask(line))
    if match := HARD_WORDS.search(text) or SOFT_WORDS.search(text):
        hard = match.re is HARD_WORDS
        return Bounce(hard, "5.0.0" if hard else "4.0.0", mask(_line_of(text, match.start())))
    return None


def _line_of(text: str, at: int) -> str:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return text[start : end if end >= 0 else len(text)]


def mask(text: str) -> str:
    """The diagnostic without addresses, trimmed: kept as long as the suppression is."""
    cleaned = " ".join(ADDRESS.sub("[adress]", text).split()).strip(" #")
    return cleaned[:MAX_DIAGNOSTIC]
