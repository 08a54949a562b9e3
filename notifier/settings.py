"""Configuration from the environment (docs/contracts.md §2), read once by the entry point and
passed down; nothing else reads the environment."""

import ipaddress
import json
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from routing.decision.engine import TICKET_DESTINATIONS
from routing.decision.schemas import Destination

# The routes that open a ticket: a forward to any other destination is a configuration
# error, shown at start.
FORWARD_DESTINATIONS = tuple(sorted(destination.value for destination in TICKET_DESTINATIONS))
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# A shorter signing key can be guessed or searched; an empty one lets anyone forge every
# unsubscribe link and staff session.
MIN_SECRET_BYTES = 32

CONFIG = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")


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


class LinkSettings(BaseSettings):
    """The addresses in emails, and the key that signs their links."""

    model_config = CONFIG

    base_url: str = "http://localhost:8000"
    eservice_url: str | None = None
    secret_key: SecretStr | None = Field(
        None,
        description="signs unsubscribe links and staff sessions; unset: a random key kept "
        "in ./var/secret_key, fine for one node",
    )
    email_login_links: bool = Field(
        True,
        description="false: notification emails name the e-service in words and never "
        "link to it, for agencies that promise never to email login links",
    )

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"NOTIFIER_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes; generate one "
                "with: python -c 'import secrets; print(secrets.token_urlsafe(32))' — or leave "
                "it unset for a random key kept in ./var/secret_key"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _https_outside_this_machine(cls, value: str) -> str:
        """Unsubscribe links must be HTTPS (RFC 8058; the large mailbox providers drop
        one-click unsubscribe otherwise); plain HTTP only for a service on loopback."""
        parts = urlsplit(value)
        local = parts.hostname in LOOPBACK_HOSTS
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise ValueError(
                f"NOTIFIER_BASE_URL must be https:// (http:// only for localhost), not {value!r}"
            )
        return value

    @field_validator("eservice_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("https", "http"):
            raise ValueError(f"NOTIFIER_ESERVICE_URL must be an http(s):// address: {value!r}")
        return value


class DigestSettings(BaseSettings):
    """Daily digests go out at this local time (Swedish time: the recipients' day)."""

    model_config = CONFIG

    digest_time: time = Field(time(7, 0), description="e.g. 07:00; local to digest_zone")
    digest_zone: str = Field("Europe/Stockholm", description="an IANA time zone")


class WebSettings(BaseSettings):
    """The HTTP side: the admin token, proxies, rate limits, logs and metrics."""

    model_config = CONFIG

    admin_token: SecretStr | None = None
    trusted_proxies: str = Field(
        "", description="comma-separated addresses or networks whose X-Forwarded-For is believed"
    )
    rate_limit_storage_url: str | None = Field(
        None, description="e.g. redis://host:6379/0: one limit for every process; unset: memory"
    )
    rate_limit_storage_timeout: float = Field(
        0.5,
        gt=0,
        le=5,
        description="seconds the rate-limit store may take; past it (or down) each process "
        "counts alone until the store answers again",
    )

    # New tickets per client, form and API together (`limits` notation).
    support_rate_limit: str = "10 per 10 minutes"
    log_level: str = "INFO"
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="a `consume` or `send` process alone serves its live /metrics on this "
        "port; `serve` adds them to its own /metrics",
    )
    metrics_host: str = Field("127.0.0.1", description="where metrics_port listens")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value


class DeskSettings(BaseSettings):
    """Support routing and the triage desk: the rules, where tickets are forwarded."""

    model_config = CONFIG

    routing_rules: Path | None = Field(None, description="a rules.toml replacing the shipped one")
    forward_mailboxes: dict[str, str] = Field(
        default_factory=lambda: {
            destination: f"{destination}@tickets.statlig-ersattning.invalid"
            for destination in FORWARD_DESTINATIONS
        },
        description="JSON: destination → mailbox its tickets are forwarded to",
    )
    forward_endpoints: dict[str, str] = Field(
        default_factory=dict,
        description="JSON: destination → URL; where set, tickets are POSTed there, not mailed",
    )
    forward_http_timeout: float = Field(10.0, description="seconds per HTTP forward")
    desk_stale_working_days: int = Field(
        2,
        ge=1,
        description="an open ticket older than this is marked on the queue; the "
        "receipt promises an answer within it",
    )

    @field_validator("forward_mailboxes", "forward_endpoints")
    @classmethod
    def _known_destinations(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FORWARD_DESTINATIONS))
        if unknown:
            raise ValueError(f"no tickets go to {unknown}; use {list(FORWARD_DESTINATIONS)}")
        return value


class ConsoleSettings(BaseSettings):
    """The operators' console: test sends and scheduled announcements."""

    model_config = CONFIG

    test_send_rate_limit: str = Field(
        "10 per hour", description="template test sends per operator (`limits` notation)"
    )
    announcement_poll_seconds: float = Field(
        15.0, gt=0, description="how often a sender checks for scheduled announcements now due"
    )


class InboundSettings(BaseSettings):
    """`notifier inbound`: mail coming back to the service."""

    model_config = CONFIG

    # Unset: answers and receipts cannot be replied to (no Reply-To, no `notifier inbound`).
    reply_domain: str | None = None
    # Bounces (to bounce+…@reply_domain): this many soft ones within the window suppress
    # an address, as one hard bounce does. A mailbox full for two weeks is not read.
    soft_bounce_limit: int = Field(5, ge=1, description="soft bounces that suppress")
    soft_bounce_days: int = Field(14, ge=1, description="the window they are counted over")
    # Unset: no questions by email. `address=destination,…`: each support mailbox the
    # relay hands to `notifier inbound`, and the destination that owns it.
    support_addresses: Annotated[dict[str, Destination], NoDecode] = Field(default_factory=dict)
    support_replies_per_hour: int = Field(
        3,
        ge=0,
        description="automatic replies to one sender of support mail an hour, at most: two "
        "auto-responders cannot loop",
    )
    inbound_authserv_id: str | None = Field(
        None,
        description="the authserv-id of the relay whose Authentication-Results `notifier "
        "inbound` believes; set, a reply without its results, or with dmarc=fail or "
        "spf=fail, is held for staff",
    )
    inbound_max_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="largest reply `notifier inbound` accepts"
    )

    @field_validator("support_addresses", mode="before")
    @classmethod
    def _address_list(cls, value: Any) -> Any:
        """`a@x.se=sea,b@x.se=sen` (the contract's form), or a mapping."""
        if not isinstance(value, str):
            return value
        if value.lstrip().startswith("{"):
            return json.loads(value)
        pairs: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            address, equals, destination = item.partition("=")
            if not equals or "@" not in address:
                raise ValueError(f"expected address=destination, got {item!r}")
            pairs[address.strip().lower()] = destination.strip()
        return pairs

    @field_validator("support_addresses")
    @classmethod
    def _lower_case(cls, value: dict[str, Destination]) -> dict[str, Destination]:
        return {address.lower(): destination for address, destination in value.items()}


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
