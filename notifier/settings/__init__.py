"""Configuration from the environment (docs/contracts.md §2), read once by the entry point and
passed down; nothing else reads the environment."""

from urllib.parse import urlsplit

from pydantic import model_validator

from notifier.settings.common import CONFIG, FORWARD_DESTINATIONS, LOOPBACK_HOSTS, MIN_SECRET_BYTES
from notifier.settings.pipeline import (
    BrokerSettings,
    DatabaseSettings,
    DigestSettings,
    SenderSettings,
    SmtpSettings,
)
from notifier.settings.service import (
    ConsoleSettings,
    DeskSettings,
    InboundSettings,
    LinkSettings,
    WebSettings,
)

__all__ = ["FORWARD_DESTINATIONS", "LOOPBACK_HOSTS", "MIN_SECRET_BYTES", "Settings"]


class Settings(
    DatabaseSettings,
    BrokerSettings,
    SmtpSettings,
    SenderSettings,
    LinkSettings,
    DigestSettings,
    WebSettings,
    DeskSettings,
    ConsoleSettings,
    InboundSettings,
):
    """Every setting, one group per subject; the environment names stay those of
    docs/contracts.md §2 (`NOTIFIER_` and the field's name)."""

    model_config = CONFIG

    @model_validator(mode="after")
    def _a_sender_receivers_accept(self) -> "Settings":
        """The default sender's .invalid domain is only for mail that stays on this
        machine (files, a relay on loopback); every receiving server rejects it."""
        relay = urlsplit(self.smtp_url).hostname if self.smtp_url else None
        if relay and relay not in LOOPBACK_HOSTS and self.mail_from.lower().endswith(".invalid"):
            raise ValueError(
                f"NOTIFIER_MAIL_FROM is {self.mail_from!r} while NOTIFIER_SMTP_URL names the "
                f"relay {relay!r}: receiving mail servers reject a sender in .invalid. Set "
                "NOTIFIER_MAIL_FROM to an address of your own domain."
            )
        return self
