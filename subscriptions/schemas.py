"""The admin API's request and response bodies (docs/contracts.md §3)."""

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    JsonValue,
    StringConstraints,
    model_validator,
)

from domain.compensation import COMPENSATION_TYPES, EVENT_TYPES, PermissionLevel
from domain.organisations import OrganisationRef
from domain.text import SingleLine
from subscriptions.models import Delivery
from subscriptions.suppressions import Suppression

# The closed sets, named in the OpenAPI schema so that schema-valid requests are valid.
_COMPENSATION_TYPES: list[JsonValue] = [*sorted(COMPENSATION_TYPES)]
_EVENT_TYPES: list[JsonValue] = [*sorted(EVENT_TYPES)]


# Paths of their own under /api/v1/users, so never a user's id (subscriptions.api).
RESERVED_USER_IDS = frozenset({"bulk"})


def _not_reserved(user_id: str) -> str:
    if user_id in RESERVED_USER_IDS:
        raise ValueError(f"{user_id!r} är reserverat och kan inte vara en användares id")
    return user_id


# A user's id as the e-service sends it: one line of text, reachable by its URL.
UserIdText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128),
    SingleLine,
    AfterValidator(_not_reserved),
]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=320)
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine
    ]
    organisation: OrganisationRef


class EmailStatus(BaseModel):
    """Whether the service mails a user's address (subscriptions.suppressions)."""

    state: Literal["ok", "suppressed"] = "ok"
    since: datetime | None = None
    reason: str | None = None  # hard_bounce or soft_bounces
    status: str | None = None  # the bounce's RFC 3463 status, e.g. 5.1.1
    diagnostic: str | None = None  # the receiving server's words, addresses masked

    @classmethod
    def of(cls, found: Suppression | None) -> "EmailStatus":
        if found is None:
            return cls()
        return cls(
            state="suppressed",
            since=found.since,
            reason=found.reason,
            status=found.status,
            diagnostic=found.diagnostic,
        )


class UserOut(UserIn):
    id: str
    email_status: EmailStatus = EmailStatus()


class PermissionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grants: dict[str, PermissionLevel] = Field(
        json_schema_extra={"propertyNames": {"enum": _COMPENSATION_TYPES}}
    )

    @model_validator(mode="after")
    def _known(self) -> Self:
        unknown = sorted(set(self.grants) - set(COMPENSATION_TYPES))
        if unknown:
            raise ValueError(f"okänd ersättningstyp: {', '.join(unknown)}")
        return self


class SubscriptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    event_types: list[str] = Field(
        max_length=len(EVENT_TYPES), json_schema_extra={"items": {"enum": _EVENT_TYPES}}
    )
    # Absent: immediate, as before the field existed (a PUT replaces it too).
    delivery: Delivery = Delivery.IMMEDIATE

    @model_validator(mode="after")
    def _known(self) -> Self:
        unknown = sorted(set(self.event_types) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"okänd händelsetyp: {', '.join(unknown)}")
        return self


class SubscriptionState(BaseModel):
    event_type: str
    enabled: bool


class SubscriptionsOut(BaseModel):
    """What is stored, and per event type whether it is mailed (`state`)."""

    state: dict[str, Literal["on", "off"]] = Field(
        description="Varje prenumererad händelsetyp: `on` (mejlas) eller `off` (avslutad, "
        "t.ex. med ett klick i ett mejl). Läs detta för att se vad som skickas.",
        examples=[{"application.decided": "off", "payment.disbursed": "on"}],
    )
    enabled: bool = Field(
        description="Kontraktets fält: sant bara när varje prenumererad typ är på. Falskt "
        "så snart en enda typ har avslutats, medan de andra fortfarande mejlas."
    )
    event_types: list[str] = Field(description="Kontraktets fält: de prenumererade typerna.")
    subscriptions: list[SubscriptionState] = Field(description="Samma som `state`, som lista.")
    delivery: Delivery
