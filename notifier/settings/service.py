"""The settings of the service around the pipeline: links in emails, the web, the desk, the
console and the mail coming back."""

import ipaddress
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

from notifier.settings.common import CONFIG, FORWARD_DESTINATIONS, LOOPBACK_HOSTS, MIN_SECRET_BYTES
from routing.decision.schemas import Destination


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
