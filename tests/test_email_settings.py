"""The email settings refuse at start what would make emails undeliverable or their
links unusable (issue 12)."""

import pytest

from notifier.channels.smtp import default_helo_name
from notifier.settings import Settings


@pytest.mark.parametrize(
    ("fqdn", "helo"),
    [
        ("app01.migrationsverket.se", "app01.migrationsverket.se"),
        ("3f2a1b9c0d1e", "migrationsverket.se"),  # a container's name
        ("localhost", "migrationsverket.se"),
        ("localhost.localdomain", "migrationsverket.se"),
    ],
)
def test_the_default_ehlo_name_is_fully_qualified(fqdn: str, helo: str) -> None:
    assert default_helo_name("migrationsverket.se", lambda: fqdn) == helo


def test_a_single_label_ehlo_name_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="NOTIFIER_SMTP_HELO_NAME must be a dotted name"):
        Settings(smtp_helo_name="localhost")


@pytest.mark.parametrize(
    "base_url",
    ["http://notifier.migrationsverket.se", "ftp://notifier.example.se", "notifier.example.se"],
)
def test_a_non_https_base_url_is_refused_at_start(base_url: str) -> None:
    with pytest.raises(ValueError, match="NOTIFIER_BASE_URL must be https://"):
        Settings(base_url=base_url)


@pytest.mark.parametrize(
    "base_url",
    [
        "https://notifier.migrationsverket.se",
        "http://localhost:8000",
        "http://127.0.0.1:8000",
        "http://[::1]:8000",
    ],
)
def test_https_or_loopback_base_urls_are_accepted(base_url: str) -> None:
    assert Settings(base_url=base_url).base_url == base_url


def test_a_real_relay_with_the_default_invalid_sender_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match=r"NOTIFIER_MAIL_FROM .* reject a sender in \.invalid"):
        Settings(smtp_url="smtp+starttls://relay.migrationsverket.se:587")


@pytest.mark.parametrize(
    ("smtp_url", "mail_from"),
    [
        ("smtp+starttls://relay.migrationsverket.se:587", "no-reply@migrationsverket.se"),
        ("smtp://127.0.0.1:2525", "no-reply@statlig-ersattning.invalid"),  # a local relay
        (None, "no-reply@statlig-ersattning.invalid"),  # files only
    ],
)
def test_a_sender_receivers_accept_or_mail_that_stays_here_starts(
    smtp_url: str | None, mail_from: str
) -> None:
    assert Settings(smtp_url=smtp_url, mail_from=mail_from).mail_from == mail_from
