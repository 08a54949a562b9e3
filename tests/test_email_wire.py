"""Deliverability (issue 12), checked on the raw bytes an SMTP server (aiosmtpd on
loopback) receives from our SMTP channel: what spam filters, auto-responders and strict
relays look at, not what a parser makes of it."""

import binascii
import re
import subprocess
from base64 import b64encode
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dkim
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.compensation import PermissionLevel
from notifier.channels import mime
from notifier.channels.base import Channel
from notifier.channels.email import email_channel
from notifier.kinds.rendering import Footer, Renderer
from notifier.outbox.events import Event
from notifier.outbox.models import OutboxMessage
from notifier.settings import Settings
from notifier.templating import email_environment
from tests.pipeline_helpers import event_body
from tests.smtp_server import Mailbox

ESERVICE_URL = "https://statligersattning.migrationsverket.se/"
BASE_URL = "https://notifier.migrationsverket.se"
LONG_LINE = "Läs mer om ändringen " + "och vad den innebär för er kommun " * 12 + "i september."


def renderer(eservice_url: str | None = ESERVICE_URL) -> Renderer:
    return Renderer(
        email_environment(),
        eservice_url=eservice_url,
        unsubscribe_url=lambda user, event_type: f"{BASE_URL}/unsubscribe/{user}.{event_type}",
        preferences_url=lambda user: f"{BASE_URL}/mina-notifieringar/{user}",
        footer=Footer(
            contact_email="etjanstkommuner@migrationsverket.se", support_url=f"{BASE_URL}/support"
        ),
    )


def row(message_id: str = "<e1.u1@statlig-ersattning.invalid>", **body: Any) -> OutboxMessage:
    """An outbox row filled in as the sender fills it just before delivery."""
    event = Event.model_validate(event_body(**body))
    email = renderer().render(event, level=PermissionLevel.FULL, user_id="u1")
    return OutboxMessage(
        id=1,
        message_id=message_id,
        kind="notification",
        recipient="anna.berg@kommun.example.se",
        subject=email.subject,
        body_text=email.text,
        body_html=email.html,
        headers=email.headers,
    )


def channel(settings: Settings, port: int, **overrides: Any) -> Channel:
    configured = settings.model_copy(
        update={"smtp_url": f"smtp://127.0.0.1:{port}", "smtp_timeout": 5}
        | {"mail_from": "no-reply@migrationsverket.se"}
        | overrides
    )
    return email_channel(configured)


async def received(settings: Settings, smtp: tuple[int, Mailbox], **overrides: Any) -> bytes:
    """The raw bytes of one announcement with a long line, as the server got them."""
    port, mailbox = smtp
    message = row(event_type="service.announcement", announcement=announcement(LONG_LINE))
    assert await channel(settings, port, **overrides).deliver([message]) == {1: None}
    return mailbox.raw[-1]


def announcement(body: str) -> dict[str, Any]:
    return {"title": "Ändrade schabloner", "body": body, "compensation_types": []}


def parsed(raw: bytes) -> EmailMessage:
    email = message_from_bytes(raw, policy=policy.strict)
    assert isinstance(email, EmailMessage)
    return email


def part(email: EmailMessage, subtype: str) -> str:
    body = email.get_body((subtype,))
    assert body is not None
    content: str = body.get_content()
    return content.replace("\r\n", "\n")  # quoted-printable keeps the wire's line ends


def headers(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


async def test_the_login_link_goes_to_the_eservice_never_to_this_service(
    settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    email = parsed(await received(settings, smtp))
    assert ESERVICE_URL in part(email, "plain")
    assert re.search(
        f'<a href="{re.escape(ESERVICE_URL)}"[^>]*>Logga in i e-tjänsten', part(email, "html")
    )
    assert f"{BASE_URL}/\n" not in part(email, "plain")
    assert f'href="{BASE_URL}/"' not in part(email, "html")


def test_without_an_eservice_address_the_email_names_the_eservice_without_a_link() -> None:
    email = renderer(None).render(
        Event.model_validate(event_body()), level=PermissionLevel.SUMMARY, user_id="u1"
    )
    assert "Logga in i e-tjänsten Ansök om statlig ersättning för att se mer." in email.text
    assert "Logga in i e-tjänsten Ansök om statlig ersättning</a>" not in email.html
    assert "Logga in i e-tjänsten Ansök om statlig ersättning för att se mer." in email.html


async def test_quoted_printable_lines_stay_within_76_characters_when_a_body_line_is_long(
    settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    raw = await received(settings, smtp)
    email = parsed(raw)
    encodings = {p.get_content_subtype(): p["Content-Transfer-Encoding"] for p in email.walk()}
    assert encodings["plain"] == encodings["html"] == "quoted-printable"
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76  # RFC 2045 §6.7
    assert LONG_LINE in part(email, "plain")  # the soft breaks undo to the one line


async def test_every_email_asks_auto_responders_not_to_answer(
    settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    top = headers(await received(settings, smtp))
    assert b"Auto-Submitted: auto-generated" in top
    assert b"X-Auto-Response-Suppress: All" in top


async def test_a_ticket_forward_is_automatic_too(
    settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp
    forward = OutboxMessage(
        id=7, message_id="ticket.t1.sea", kind="ticket", recipient="sea@example.se", body_text="S-1"
    )
    await channel(settings, port).deliver([forward])
    assert b"Auto-Submitted: auto-generated" in headers(mailbox.raw[-1])


async def test_the_ehlo_name_is_the_configured_one(
    settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    await received(settings, smtp, smtp_helo_name="utskick.migrationsverket.se")
    assert smtp[1].helo_names == ["utskick.migrationsverket.se"]


async def test_message_id_and_from_follow_the_sender(
    settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    top = headers(await received(settings, smtp))
    assert b"Message-ID: <e1.u1@migrationsverket.se>" in top
    assert b"From: Migrationsverket <no-reply@migrationsverket.se>" in top


async def test_a_non_ascii_display_name_is_encoded(
    settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    raw = await received(settings, smtp, mail_from_name="Migrationsverket – statlig ersättning")
    assert raw.isascii() or b"=?utf-8?" in raw
    assert parsed(raw)["From"].addresses[0].display_name == "Migrationsverket – statlig ersättning"


async def test_mime_version_is_given_once_at_the_top(
    settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    raw = await received(settings, smtp)
    assert len(re.findall(rb"(?m)^MIME-Version:", raw)) == 1
    assert b"MIME-Version: 1.0" in headers(raw)


async def test_the_text_signature_delimiter_is_dash_dash_space(
    settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    text = part(parsed(await received(settings, smtp)), "plain")
    assert "\n-- \nDu får det här mejlet" in text


async def test_an_announcement_keeps_its_paragraphs_and_links_its_addresses_in_html(
    settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp
    body = (
        "Första stycket.\nEn ny rad.\n\nLäs mer på https://www.migrationsverket.se/a?b=1&c=2."
        "\n\n<script>alert(1)</script> och javascript:alert(2)"
    )
    message = row(event_type="service.announcement", announcement=announcement(body))
    await channel(settings, port).deliver([message])
    html = part(parsed(mailbox.raw[-1]), "html")
    p = '<p style="margin: 0 0 16px;">'  # inline: mail clients drop style sheets
    assert f"{p}Första stycket.<br>\nEn ny rad.</p>" in html
    link = "https://www.migrationsverket.se/a?b=1&amp;c=2"
    assert f'Läs mer på <a href="{link}">{link}</a>.</p>' in html  # the full stop is text
    assert f"{p}&lt;script&gt;alert(1)&lt;/script&gt; och javascript:alert(2)</p>" in html
    assert "<script>" not in html and 'href="javascript' not in html


def dkim_key(directory: Path) -> tuple[Path, bytes]:
    """A fresh RSA key (PEM file) and its public half as a DNS TXT record."""
    key = directory / "dkim.pem"
    generate = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    subprocess.run(
        [*generate, "-out", str(key)],
        check=True,
        capture_output=True,
    )
    public = subprocess.run(
        ["openssl", "pkey", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + b64encode(public)


async def test_dkim_signature_verifies_against_the_public_key(
    settings: Settings, smtp: tuple[int, Mailbox], tmp_path: Path
) -> None:
    key, record = dkim_key(tmp_path)
    asked: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        asked.append(name)
        return record

    raw = await received(settings, smtp, dkim_selector="utskick2026", dkim_key_file=key)
    assert raw.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
    assert dkim.verify(raw, dnsfunc=dns)
    assert asked == [b"utskick2026._domainkey.migrationsverket.se."]
    assert not dkim.verify(raw.replace(b"Logga in", b"Logga ut"), dnsfunc=dns)


async def test_without_dkim_settings_nothing_is_signed(
    settings: Settings, smtp: tuple[int, Mailbox]
) -> None:
    assert b"DKIM-Signature" not in await received(settings, smtp)


def test_a_missing_dkim_key_stops_the_service_at_start(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        channel(settings, 25, dkim_selector="s", dkim_key_file=tmp_path / "missing.pem")
    with pytest.raises(ValueError, match="NOTIFIER_DKIM_SELECTOR and NOTIFIER_DKIM_KEY_FILE"):
        Settings(dkim_selector="s")


@given(st.text(alphabet=st.sampled_from("ab =\t.\n-åäö€x"), max_size=400))
@settings(max_examples=400, deadline=None)
def test_bodies_encoded_a_line_at_a_time_are_what_binascii_makes_of_the_whole(
    text: str,
) -> None:
    """Each line's quoted-printable is kept for the next email of the same event: the
    concatenation must be the whole text's, byte for byte (long lines, trailing blanks,
    a last line without its newline)."""
    assert mime._quoted_lines(text) == binascii.b2a_qp(text.encode(), istext=True)
