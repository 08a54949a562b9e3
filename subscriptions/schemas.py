"""The admin API's request and response bodies (docs/contracts.md §3)."""

from typing import Annotated, Literal, Self

from pydantic import (
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

# The closed sets, named in the OpenAPI schema so that schema-valid requests are valid.
_COMPENSATION_TYPES: list[JsonValue] = [*sorted(COMPENSATION_TYPES)]
_EVENT_TYPES: list[JsonValue] = [*sorted(EVENT_TYPES)]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=320)
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine
    ]
    organisation: OrganisationRef


class UserOut(UserIn):
    id: str


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
