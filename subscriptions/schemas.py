"""The admin API's request and response bodies (CONTRACTS §3)."""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from domain.compensation import COMPENSATION_TYPES, EVENT_TYPES, PermissionLevel
from domain.organisations import OrganisationRef


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=320)
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    organisation: OrganisationRef


class UserOut(UserIn):
    id: str


class PermissionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grants: dict[str, PermissionLevel]

    @model_validator(mode="after")
    def _known(self) -> Self:
        unknown = sorted(set(self.grants) - set(COMPENSATION_TYPES))
        if unknown:
            raise ValueError(f"okänd ersättningstyp: {', '.join(unknown)}")
        return self


class Delivery(StrEnum):
    IMMEDIATE = "immediate"  # one email per event
    DAILY = "daily"  # the day's notifications gathered into one digest


class SubscriptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    event_types: list[str] = Field(max_length=len(EVENT_TYPES))
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
    delivery: Delivery


class SubscriptionsOut(BaseModel):
    enabled: bool
    """True when every stored subscription is on (a one-click unsubscribe turns one off)."""
    event_types: list[str]
    delivery: Delivery
    """Daily when every stored subscription is gathered into the digest."""
    subscriptions: list[SubscriptionState]
