"""Support inquiries and routing decisions as the API carries them (docs/contracts.md §3)."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
)

from domain.compensation import COMPENSATION_TYPES
from domain.organisations import OrganisationRef
from domain.text import MultiLine, SingleLine


class IssueType(StrEnum):
    LOGIN = "login"
    PERMISSIONS = "permissions"
    BROWSER = "browser"
    COMPENSATION = "compensation"
    ESERVICE_GENERAL = "eservice_general"
    NOT_ESERVICE = "not_eservice"
    EDUCATION_PERIODS = "education_periods"
    NOTIFICATIONS = "notifications"
    GETTING_STARTED = "getting_started"


class LoginStep(StrEnum):
    FIRST = "1"  # Migrationsverket's page: "E-tjänstelegitimation – SITHS"
    SECOND = "2"  # Inera's menu


class LoginMethod(StrEnum):
    SITHS_EID_THIS_DEVICE = "siths_eid_this_device"
    SITHS_EID_OTHER_DEVICE = "siths_eid_other_device"
    SITHS_CARD_NETID = "siths_card_netid"  # the old card with Net iD; ended 31 January 2024


class TargetGroup(StrEnum):
    ASYLSOKANDE = "asylsokande"
    NYANLANDA = "nyanlanda"


class Destination(StrEnum):
    SEA = "sea"
    SEN = "sen"
    INERA = "inera"
    LOCAL_IT = "local_it"
    LOCAL_ADMIN = "local_admin"
    MV_KONTAKTCENTER_KOMMUN = "mv_kontaktcenter_kommun"
    MV_KONTAKTCENTER_REGION = "mv_kontaktcenter_region"
    SELF_SERVICE = "self_service"


Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), SingleLine]
Long = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000), MultiLine]
UserAgent = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000), SingleLine]


class Inquiry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    issue_type: IssueType
    organisation: OrganisationRef | None = None
    login_step: LoginStep | None = None
    login_method: LoginMethod | None = None
    # The schema names the closed set, so schema-valid requests are valid (issue 10, #17).
    compensation_type: str | None = Field(
        None, max_length=64, json_schema_extra={"enum": [*sorted(COMPENSATION_TYPES), None]}
    )
    target_group: TargetGroup | None = None
    browser: UserAgent | None = None
    diarienummer: Short | None = None
    case_officer: Short | None = None
    name: Short | None = None
    email: EmailStr | None = Field(None, max_length=320)
    message: Long | None = None
    asked_at: AwareDatetime | None = None

    @field_validator("login_step", mode="before")
    @classmethod
    def _step_as_number(cls, value: object) -> object:
        # JSON clients naturally send the step as a number; bool is an int in Python.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("asked_at", mode="before")
    @classmethod
    def _time_as_text(cls, value: object) -> object:
        # The schema says an ISO date-time string; pydantic would also read a number as
        # seconds since 1970, which no client means.
        if isinstance(value, int | float):
            raise ValueError("Ange datum och tid, t.ex. 2026-11-26T10:15:00+01:00.")
        return value

    @field_validator("compensation_type")
    @classmethod
    def _known_compensation_type(cls, value: str | None) -> str | None:
        if value is not None and value not in COMPENSATION_TYPES:
            raise ValueError(f"okänd ersättningstyp: {value!r}")
        return value


class ContactData(BaseModel):
    """A destination's contact as the rules file gives it."""

    model_config = ConfigDict(frozen=True)

    destination: Destination
    name: str
    email: str | None = None
    phone: str | None = None
    hours: str | None = None
    url: str | None = None
    postal_address: str | None = None


# A contact in a decision: its rule-file data, and whether its phone is open. (A comment,
# not a docstring: a docstring would become the API schema's description.)
class Contact(ContactData):
    model_config = ConfigDict(frozen=False)

    # Only for contacts with a phone; opens_next (Swedish time) is null while it is open.
    phone_open_now: bool | None = None
    phone_opens_next: datetime | None = None


class RuleRef(BaseModel):
    id: str
    version: str


class Decision(BaseModel):
    primary: Contact
    secondary: Contact | None = None
    # What the person must include: "screenshot", "diarienummer", "case_officer".
    requires: list[str] = Field(default_factory=list)
    advice: list[str] = Field(default_factory=list)
    rule: RuleRef
