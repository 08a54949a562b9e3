"""Configuration from the environment (docs/contracts.md §2), read once by the entry point and
passed down; nothing else reads the environment."""

import ipaddress
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from routing.decision.engine import TICKET_DESTINATIONS

# The routes that open a ticket: a forward to any other destination is a configuration
# error, shown at start.
FORWARD_DESTINATIONS = tuple(sorted(destination.value for destination in TICKET_DESTINATIONS))
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# A shorter signing key can be guessed or searched; an empty one lets anyone forge every
# unsubscribe link and staff session.
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    # The contract (docs/contracts.md §2).
    database_url: str = "sqlite:///./var/notifier.db"
    amqp_url: str = "amqp://guest:guest@localhost:5672/"
    smtp_url: str | None = None
    mail_from: str = "no-reply@statlig-ersattning.invalid"
    base_url: str = "http://localhost:8000"
    eservice_url: str | None = None
    admin_token: SecretStr | None = None
    # Unset: answers and receipts cannot be replied to (no Reply-To, no `notifier inbound`).
    reply_domain: str | None = None

    # Our own additions.
    mail_dir: Path = Field(Path("./var/mail"), description="where .eml files go without SMTP")
    secret_key: SecretStr | None = Field(
        None,
        description="signs unsubscribe links and staff sessions; unset: a random key kept "
        "in ./var/secret_key, fine for one node",
    )
    log_level: str = "INFO"
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="a `consume` or `send` process alone serves its live /metrics on this "
        "port; `serve` adds them to its own /metrics",
    )
    metrics_host: str = Field("127.0.0.1", description="where metrics_port listens")
    # New tickets per client, form and API together (`limits` notation).
    support_rate_limit: str = "10 per 10 minutes"
    trusted_proxies: str = Field(
        "", description="comma-separated addresses or networks whose X-Forwarded-For is believed"
    )
    rate_limit_storage_url: str | None = Field(
        None, description="e.g. redis://host:6379/0: one limit for every process; unset: memory"
    )

    # The notification pipeline. The names of docs/contracts.md §1; other names only for
    # a test or staging run sharing a broker.
    events_exchange: str = "statlig-ersattning.events"
    events_queue: str = "notifier.events"
    dead_letter_queue: str = "notifier.events.dead"
    # Consumer batches and sender retries.
    consumer_batch_size: int = Field(500, ge=1, description="events per transaction and ack")
    consumer_batch_ms: int = Field(50, ge=1, description="longest wait to fill a batch")
    consumer_prefetch: int | None = Field(None, ge=1, description="unset: 3 batches (SQLite 2)")
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
    smtp_timeout: float = Field(30.0, gt=0, description="seconds per SMTP operation")
    # 90 days: a quarter covers complaints about a missed email and the follow-up of a
    # closed ticket, and is far beyond the sender's longest retry window (hours); the
    # e-service keeps the case record, here are only copies, so longer serves no purpose
    # (GDPR art. 5(1)(e), storage limitation).
    retention_days: int = Field(
        90, ge=1, description="personal data in sent emails, events and closed tickets"
    )

    email_login_links: bool = Field(
        True,
        description="false: notification emails name the e-service in words and never "
        "link to it, for agencies that promise never to email login links",
    )

    # Deliverability: what strict relays and mailbox providers ask of a sender.
    mail_from_name: str = Field("Migrationsverket", description="display name of From")
    smtp_helo_name: str | None = Field(
        None,
        description="the EHLO name; unset: this machine's FQDN, or the sender's domain "
        "where the machine has no dotted name",
    )
    dkim_selector: str | None = Field(None, description="with dkim_key_file: DKIM-sign")
    dkim_key_file: Path | None = Field(None, description="PEM private key for DKIM")

    # Daily digests go out at this local time (Swedish time: the recipients' day).
    digest_time: time = Field(time(7, 0), description="e.g. 07:00; local to digest_zone")
    digest_zone: str = Field("Europe/Stockholm", description="an IANA time zone")

    smtp_connections: int = Field(
        8, ge=1, description="SMTP connections a sender keeps open to the relay, used at once"
    )

    # Support routing. People are shown the real addresses of routing/rules.toml;
    # where their tickets are forwarded is per deployment, and by default nowhere real.
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
    # The triage desk.
    desk_stale_working_days: int = Field(
        2,
        ge=1,
        description="an open ticket older than this is marked on the queue; the "
        "receipt promises an answer within it",
    )
    inbound_max_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="largest reply `notifier inbound` accepts"
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

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("forward_mailboxes", "forward_endpoints")
    @classmethod
    def _known_destinations(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FORWARD_DESTINATIONS))
        if unknown:
            raise ValueError(f"no tickets go to {unknown}; use {list(FORWARD_DESTINATIONS)}")
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

    @field_validator("smtp_helo_name")
    @classmethod
    def _fully_qualified(cls, value: str | None) -> str | None:
        # Strict relays (Postfix reject_non_fqdn_helo_hostname) refuse a single label.
        if value is not None and "." not in value.strip("[]."):
            raise ValueError(f"NOTIFIER_SMTP_HELO_NAME must be a dotted name: {value!r}")
        return value

    @model_validator(mode="after")
    def _dkim_complete(self) -> "Settings":
        if (self.dkim_selector is None) != (self.dkim_key_file is None):
            raise ValueError(
                "set both NOTIFIER_DKIM_SELECTOR and NOTIFIER_DKIM_KEY_FILE, or neither"
            )
        return self

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

    @property
    def var_dir(self) -> Path:
        return self.mail_dir.parent
