"""Application events, schema v1 (docs/contracts.md §1), as the e-service publishes them.

Validation is strict where a mistake would send the wrong email (unknown event or
compensation type, an organisation that does not exist, a missing part the event type
needs) and lenient where it cannot: unknown extra fields are ignored at every level, so the
e-service can add fields without a new version, and an optional part sent as `null` counts
as absent. Otherwise the code accepts what docs/asyncapi.yaml allows and nothing more
(tests/test_asyncapi.py holds both to the same cases).
"""

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from domain.compensation import ANNOUNCEMENT, COMPENSATION_TYPES, EVENT_TYPES
from domain.organisations import OrganisationRef


def _known_compensation_type(code: str) -> str:
    if code not in COMPENSATION_TYPES:
        raise ValueError(f"unknown compensation type {code!r}")
    return code


def _known_event_type(code: str) -> str:
    if code not in EVENT_TYPES:
        raise ValueError(f"unknown event type {code!r}")
    return code


# RFC 4122's hyphenated form, the spec's `format: uuid`; either case, kept in lower case so
# that one event is one key however it was spelt. Braces, URNs and bare hex are refused.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# Kronor as the spec's decimal string: a JSON number may have lost its öre on the way, and
# Decimal alone would take "1e3" and print it so in an email.
_AMOUNT = re.compile(r"-?\d{1,13}(\.\d{1,2})?")


def _canonical_uuid(value: str) -> str:
    if not _UUID.fullmatch(value):
        raise ValueError("not a UUID in its hyphenated form")
    return value.lower()


def _amount_string(value: object) -> object:
    if isinstance(value, Decimal):  # built in code, not read from JSON
        return value
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise ValueError('amount_sek is a decimal string such as "12345.50"')
    return value


def _known_fields_only(value: object) -> object:
    """Unknown fields of an event's organisation are ignored, as everywhere in an event
    (the API's own OrganisationRef refuses them)."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k in OrganisationRef.model_fields}
    return value


CompensationCode = Annotated[str, AfterValidator(_known_compensation_type)]
# Kept as its canonical string: the id is used as a key many times per event.
EventId = Annotated[str, AfterValidator(_canonical_uuid)]
EventTypeCode = Annotated[str, AfterValidator(_known_event_type)]
EventOrganisation = Annotated[OrganisationRef, BeforeValidator(_known_fields_only)]

# Which optional parts each event type cannot do without: rendering relies on them.
REQUIRED_PARTS: dict[str, tuple[str, ...]] = {
    "application.submitted": ("case",),
    "application.supplement_requested": ("case",),
    "application.case_officer_assigned": ("case",),
    "application.message": ("case",),
    "application.decided": ("case", "decision"),
    "payment.disbursed": ("case", "payment"),
    "payment.automatic": ("payment",),
    ANNOUNCEMENT: ("announcement",),
}


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Case(_Part):
    diarienummer: str = Field(min_length=1, max_length=64)
    case_officer: str | None = Field(None, max_length=200)


class Person(_Part):
    """Personal data: it reaches only users with a `full` grant."""

    name: str = Field(min_length=1, max_length=200)


class Payment(_Part):
    amount_sek: Annotated[Decimal, BeforeValidator(_amount_string)] = Field(
        max_digits=15, decimal_places=2
    )
    paid_on: date


class Outcome(StrEnum):
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    REJECTED = "rejected"


class DecisionPart(_Part):
    """The event's `decision` part (named apart from routing's `Decision`)."""

    outcome: Outcome


class Announcement(_Part):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=10_000)
    compensation_types: list[CompensationCode] = Field(default_factory=list)


class Event(_Part):
    schema_version: Literal[1]
    event_id: EventId
    event_type: EventTypeCode
    occurred_at: AwareDatetime
    organisation: EventOrganisation | None = None
    compensation_type: CompensationCode | None = None
    case: Case | None = None
    person: Person | None = None
    payment: Payment | None = None
    decision: DecisionPart | None = None
    announcement: Announcement | None = None

    @model_validator(mode="after")
    def _parts_present(self) -> Self:
        missing = [part for part in REQUIRED_PARTS[self.event_type] if getattr(self, part) is None]
        if self.event_type != ANNOUNCEMENT:
            # Only an announcement may go to every organisation or every compensation type.
            missing += [
                p for p in ("organisation", "compensation_type") if getattr(self, p) is None
            ]
        if missing:
            raise ValueError(f"{self.event_type} needs {', '.join(missing)}")
        return self

    @property
    def id(self) -> str:
        return self.event_id


class InvalidEvent(ValueError):
    """Why a message is not an event of schema v1; the text goes into a header."""


def parse_event(body: bytes) -> Event:
    """The event in a message body, or InvalidEvent with a short, header-safe reason."""
    try:
        return Event.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidEvent(_reason(exc)) from None


def parse_payload(payload: dict[str, Any]) -> Event:
    """An event stored as JSON (ProcessedEvent.payload), validated again on reading."""
    return Event.model_validate(payload)


def _reason(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if errors and errors[0]["type"] == "json_invalid":
        return "not valid JSON"
    parts = []
    for error in errors[:5]:
        where = ".".join(str(loc) for loc in error["loc"]) or "message"
        parts.append(f"{where}: {error['msg']}")
    # Headers stay short; the message body holds the rest for whoever looks.
    return "; ".join(parts)[:500]
