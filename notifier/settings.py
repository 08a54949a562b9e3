"""Configuration from the environment (CONTRACTS §2), read once by the entry point and
passed down; nothing else reads the environment."""

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The routes that open a ticket (routing.engine.TICKET_DESTINATIONS), named here so that
# configuration errors show at start.
FORWARD_DESTINATIONS = ("sea", "sen", "mv_kontaktcenter_kommun", "mv_kontaktcenter_region")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore")

    # The contract (CONTRACTS §2).
    database_url: str = "sqlite:///./var/notifier.db"
    amqp_url: str = "amqp://guest:guest@localhost:5672/"
    smtp_url: str | None = None
    mail_from: str = "no-reply@statlig-ersattning.invalid"
    base_url: str = "http://localhost:8000"
    admin_token: SecretStr | None = None

    # Our own additions.
    mail_dir: Path = Field(Path("./var/mail"), description="where .eml files go without SMTP")
    secret_key: SecretStr | None = Field(
        None,
        description="signs unsubscribe links and staff sessions; unset: a random key kept "
        "in ./var/secret_key, fine for one node",
    )
    log_level: str = "INFO"
    # The public form's POSTs per client (`limits` notation); counted per process.
    support_rate_limit: str = "10 per 10 minutes"

    # The notification pipeline (issue 3). The names of CONTRACTS §1; other names only for
    # a test or staging run sharing a broker.
    events_exchange: str = "statlig-ersattning.events"
    events_queue: str = "notifier.events"
    dead_letter_queue: str = "notifier.events.dead"
    # Consumer batches and sender retries.
    consumer_batch_size: int = Field(500, ge=1, description="events per transaction and ack")
    consumer_batch_ms: int = Field(50, ge=1, description="longest wait to fill a batch")
    consumer_prefetch: int | None = Field(None, ge=1, description="unset: twice the batch")
    send_batch_size: int = Field(100, ge=1, description="outbox rows claimed at a time")
    send_poll_seconds: float = Field(1.0, gt=0, description="pause when nothing is due")
    send_max_attempts: int = Field(10, ge=1, description="then a transient failure is final")
    send_backoff_seconds: float = Field(30.0, ge=0, description="wait before the 2nd attempt")
    send_backoff_max_seconds: float = Field(3600.0, ge=0, description="longest wait")
    send_lease_seconds: float = Field(300.0, gt=0, description="a claimed row's send window")
    smtp_timeout: float = Field(30.0, gt=0, description="seconds per SMTP operation")
    # 90 days: a quarter covers complaints about a missed email and the follow-up of a
    # closed ticket, and is far beyond the sender's longest retry window (hours); the
    # e-service keeps the case record, here are only copies, so longer serves no purpose
    # (GDPR art. 5(1)(e), storage limitation).
    retention_days: int = Field(
        90, ge=1, description="personal data in sent emails, events and closed tickets"
    )

    # Support routing (issue 4). People are shown the real addresses of routing/rules.toml;
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

    @field_validator("forward_mailboxes", "forward_endpoints")
    @classmethod
    def _known_destinations(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FORWARD_DESTINATIONS))
        if unknown:
            raise ValueError(f"no tickets go to {unknown}; use {list(FORWARD_DESTINATIONS)}")
        return value

    @property
    def var_dir(self) -> Path:
        return self.mail_dir.parent
