"""The settings of the notification pipeline: the database, the broker, the relay, the
sender and the digests."""

from datetime import time
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings

from notifier.settings.common import CONFIG


class DatabaseSettings(BaseSettings):
    """Where the data lives, and for how long personal data stays."""

    model_config = CONFIG

    database_url: str = "sqlite:///./var/notifier.db"

    # 90 days: a quarter covers complaints about a missed email and the follow-up of a
    # closed ticket, and is far beyond the sender's longest retry window (hours); the
    # e-service keeps the case record, here are only copies, so longer serves no purpose
    # (GDPR art. 5(1)(e), storage limitation).
    retention_days: int = Field(
        90, ge=1, description="personal data in sent emails, events and closed tickets"
    )


class BrokerSettings(BaseSettings):
    """RabbitMQ: the contract's exchange and queues (docs/contracts.md §1), the consumer's
    batches."""

    model_config = CONFIG

    amqp_url: str = "amqp://guest:guest@localhost:5672/"
    events_exchange: str = "statlig-ersattning.events"
    events_queue: str = "notifier.events"
    dead_letter_queue: str = "notifier.events.dead"
    outcomes_exchange: str = Field(
        "notifier.outcomes", description="where email.undeliverable is told (docs/contracts.md §1)"
    )
    consumer_batch_size: int = Field(500, ge=1, description="events per transaction and ack")
    consumer_batch_ms: int = Field(50, ge=1, description="longest wait to fill a batch")
    consumer_prefetch: int | None = Field(None, ge=1, description="unset: 3 batches (SQLite 2)")


class SmtpSettings(BaseSettings):
    """The mail relay, and what strict relays and mailbox providers ask of a sender."""

    model_config = CONFIG

    smtp_url: str | None = None
    mail_dir: Path = Field(Path("./var/mail"), description="where .eml files go without SMTP")
    smtp_timeout: float = Field(30.0, gt=0, description="seconds per SMTP operation")
    smtp_connections: int = Field(
        8, ge=1, description="SMTP connections a sender keeps open to the relay, used at once"
    )
    smtp_helo_name: str | None = Field(
        None,
        description="the EHLO name; unset: this machine's FQDN, or the sender's domain "
        "where the machine has no dotted name",
    )
    dkim_selector: str | None = Field(None, description="with dkim_key_file: DKIM-sign")
    dkim_key_file: Path | None = Field(None, description="PEM private key for DKIM")

    @field_validator("smtp_helo_name")
    @classmethod
    def _fully_qualified(cls, value: str | None) -> str | None:
        # Strict relays (Postfix reject_non_fqdn_helo_hostname) refuse a single label.
        if value is not None and "." not in value.strip("[]."):
            raise ValueError(f"NOTIFIER_SMTP_HELO_NAME must be a dotted name: {value!r}")
        return value

    @model_validator(mode="after")
    def _dkim_complete(self) -> "SmtpSettings":
        if (self.dkim_selector is None) != (self.dkim_key_file is None):
            raise ValueError(
                "set both NOTIFIER_DKIM_SELECTOR and NOTIFIER_DKIM_KEY_FILE, or neither"
            )
        return self

    @property
    def var_dir(self) -> Path:
        return self.mail_dir.parent


class SenderSettings(BaseSettings):
    """The outbox sender: who mail is from, how much it claims, how it retries."""

    model_config = CONFIG

    mail_from: str = "no-reply@statlig-ersattning.invalid"
    mail_from_name: str = Field("Migrationsverket", description="display name of From")
    send_batch_size: int = Field(100, ge=1, description="outbox rows claimed at a time")
    send_poll_seconds: float = Field(1.0, gt=0, description="pause when nothing is due")
    send_max_attempts: int = Field(10, ge=1, description="then a transient failure is final")
    send_backoff_seconds: float = Field(30.0, ge=0, description="wait before the 2nd attempt")
    send_backoff_max_seconds: float = Field(3600.0, ge=0, description="longest wait")
    send_lease_seconds: float = Field(
        20.0,
        gt=0,
        description="a claim, renewed while delivering: a crashed sender's rows wait no longer",
    )


class DigestSettings(BaseSettings):
    """Daily digests go out at this local time (Swedish time: the recipients' day)."""

    model_config = CONFIG

    digest_time: time = Field(time(7, 0), description="e.g. 07:00; local to digest_zone")
    digest_zone: str = Field("Europe/Stockholm", description="an IANA time zone")
