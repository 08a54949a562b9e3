"""What an email must be when it leaves a strict relay (tests/postfix_relay.py) for a
recipient's mailbox, and the settings that send it there."""

import re
from email import message_from_bytes, policy
from email.message import EmailMessage

from notifier.settings import Settings

ESERVICE_URL = "https://statligersattning.migrationsverket.se/"
BASE_URL = "https://notifier.migrationsverket.se"
REQUIRED = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Auto-Submitted",
)


def through_relay(settings: Settings, port: int) -> Settings:
    """Settings as an operator gives them: the relay, the sender's and the e-service's
    addresses. The EHLO name stays the default: this machine's FQDN or the sender's
    domain."""
    return settings.model_copy(
        update={
            "smtp_url": f"smtp://127.0.0.1:{port}",
            "mail_from": "no-reply@migrationsverket.se",
            "base_url": BASE_URL,
            "eservice_url": ESERVICE_URL,
            "smtp_timeout": 5,
        }
    )


def check(raw: bytes) -> EmailMessage:
    """The received email, parsed once it passed every check."""
    email = message_from_bytes(raw, policy=policy.strict)  # raises on any defect
    assert isinstance(email, EmailMessage)
    for name in REQUIRED:
        assert len(email.get_all(name) or []) == 1, name
        assert not email[name].defects, (name, email[name].defects)
    assert len(re.findall(rb"(?mi)^MIME-Version:", raw)) == 1
    assert str(email["From"]) == "Migrationsverket <no-reply@migrationsverket.se>"
    assert str(email["Message-ID"]).endswith("@migrationsverket.se>")
    assert str(email["List-Unsubscribe"]).startswith(f"<{BASE_URL}/")
    # As sent, not only as parsed: a folded, encoded-word URL is decoded by the parser but
    # by no mailbox provider's unsubscribe button.
    assert re.search(rb"(?m)^List-Unsubscribe: <https://[^\s>]+>\r?$", raw)
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["Auto-Submitted"] == "auto-generated"
    for part in quoted_printable(email):
        assert max(map(len, str(part.get_payload()).splitlines())) <= 78, part.get_content_type()
    text, html = email.get_body(("plain",)), email.get_body(("html",))
    assert text is not None and html is not None
    assert ESERVICE_URL in text.get_content()
    assert f'<a href="{ESERVICE_URL}"' in html.get_content()
    return email


def quoted_printable(email: EmailMessage) -> list[EmailMessage]:
    return [p for p in email.walk() if p["Content-Transfer-Encoding"] == "quoted-printable"]


def text_of(email: EmailMessage) -> str:
    part = email.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())
