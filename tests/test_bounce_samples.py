"""notifier.inbound.dsn over hand-written bounces in the shapes real servers send
(tests/bounces/*.eml, after RFC 3464 and public examples, with example.org addresses):
each sample's verdict, and every sample in the folder has one here."""

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from notifier.inbound.dsn import Bounce, mask, read

SAMPLES = Path(__file__).parent / "bounces"

# file → (hard, status, words the diagnostic holds), or None: not a bounce we count.
EXPECTED: dict[str, tuple[bool, str, str] | None] = {
    "postfix_user_unknown.eml": (True, "5.1.1", "Recipient address rejected: User unknown"),
    "postfix_delayed.eml": (False, "4.2.2", "452 4.2.2 Mailbox full"),
    "postfix_expired.eml": (False, "4.4.1", "Connection timed out"),
    "exim_report.eml": (True, "5.0.0", "550 5.1.1 No such user here"),
    "exim_plain_text.eml": (True, "5.0.0", "550 Unrouteable address"),
    "office365_ndr.eml": (True, "5.1.10", "RESOLVER.ADR.RecipientNotFound"),
    "office365_delayed.eml": (False, "4.4.7", "Message delayed"),
    "exchange_legacy_text.eml": (True, "5.1.1", "RESOLVER.ADR.RecipNotFound"),
    "gmail_user_unknown.eml": (True, "5.1.1", "tried to reach does not exist"),
    "qmail_failure_notice.eml": (True, "5.1.1", "no mailbox here by that name"),
    "qmail_remote_said.eml": (True, "5.0.0", "550 Requested action not taken"),
    "auto_reply_franvaro.eml": None,
    "auto_reply_out_of_office.eml": None,
    "vacation_from_daemon_subject.eml": None,
    "delivered_notice.eml": None,
}


def sample(name: str) -> EmailMessage:
    message = message_from_bytes((SAMPLES / name).read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def envelope_sender(message: EmailMessage) -> str:
    """What the relay would give as MAIL FROM: the Return-Path it recorded, else <>
    for a daemon's mail and the From address for a person's."""
    if "Return-Path" in message:
        return str(message["Return-Path"]).strip().strip("<>")
    sender = str(message["From"])
    return "" if "postmaster" in sender or "daemon" in sender.lower() else sender


def test_every_sample_has_an_expected_verdict() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_each_sample_is_read_as_the_server_meant_it(
    name: str, expected: tuple[bool, str, str] | None
) -> None:
    message = sample(name)
    bounce = read(message, envelope_sender(message))
    if expected is None:
        assert bounce is None
        return
    assert bounce is not None
    hard, status, words = expected
    assert (bounce.hard, bounce.status) == (hard, status)
    assert words in bounce.diagnostic


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e))
def test_no_address_survives_in_a_diagnostic(name: str) -> None:
    bounce = read(sample(name))
    assert bounce is not None and "@" not in bounce.diagnostic


def test_a_report_names_its_final_recipient() -> None:
    bounce = read(sample("postfix_user_unknown.eml"))
    assert bounce == Bounce(
        hard=True,
        status="5.1.1",
        diagnostic="550 5.1.1 [adress]: Recipient address rejected: User unknown in virtual "
        "mailbox table",
        recipient="slutat@kommun.example.org",
    )


def test_of_several_recipients_a_failed_one_wins_over_a_delayed_one() -> None:
    raw = (
        (SAMPLES / "postfix_delayed.eml")
        .read_bytes()
        .replace(
            b"Will-Retry-Until: Sun, 13 Dec 2026 10:15:01 +0100 (CET)\n",
            b"\nFinal-Recipient: rfc822; gone@region.example.org\nAction: failed\nStatus: 5.1.1\n",
        )
    )
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert read(message) == Bounce(True, "5.1.1", "failed (5.1.1)", "gone@region.example.org")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("550 <a.b@example.org>: unknown", "550 [adress]: unknown"),
        ("  #550 5.1.1 x ##", "550 5.1.1 x"),
        ("x" * 400, "x" * 300),
    ],
)
def test_a_diagnostic_is_masked_and_trimmed(text: str, masked: str) -> None:
    assert mask(text) == masked
