"""docs/asyncapi.yaml and the pydantic event models (notifier/outbox/events.py) say the
same: every field, which are required, every enum, which parts each event type needs, and
for a table of edge cases, whether a message is accepted at all. Change one without the
other and a test here fails.

The document is read as YAML 1.2 (ruamel.yaml), as AsyncAPI's own parser reads it: YAML 1.1
(PyYAML) reads an unquoted 0180 as the string "0180", YAML 1.2 as the integer 180."""

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML

from domain.compensation import COMPENSATION_TYPES, EVENT_TYPES
from domain.organisations import OrganisationKind, OrganisationRef
from notifier.outbox.events import (
    Announcement,
    Case,
    DecisionPart,
    Event,
    InvalidEvent,
    Outcome,
    Payment,
    Person,
    parse_event,
)
from notifier.settings import Settings

SPEC = Path(__file__).parent.parent / "docs" / "asyncapi.yaml"
DOC: dict[str, Any] = YAML(typ="safe", pure=True).load(SPEC.read_text(encoding="utf-8"))
SCHEMAS: dict[str, dict[str, Any]] = DOC["components"]["schemas"]
EXAMPLES: list[dict[str, Any]] = DOC["components"]["messages"]["Event"]["examples"]
MODELS: dict[str, type[BaseModel]] = {
    "Event": Event,
    "Organisation": OrganisationRef,
    "Case": Case,
    "Person": Person,
    "Payment": Payment,
    "Decision": DecisionPart,
    "Announcement": Announcement,
}
FULL: dict[str, Any] = {
    "schema_version": 1,
    "event_id": "6f1c1e9e-0b7a-4a53-9a43-1f0f6a1d2b11",
    "occurred_at": "2026-11-26T10:15:00+01:00",
    "organisation": {"kind": "kommun", "code": "0180"},
    "compensation_type": "dygnsschablon-ensamkommande",
    "case": {"diarienummer": "1.1.3-2026-123456"},
    "person": {"name": "Ali Hassan"},
    "payment": {"amount_sek": "12345.50", "paid_on": "2026-11-25"},
    "decision": {"outcome": "approved"},
    "announcement": {"title": "Nytt", "body": "Text"},
}


def test_the_document_is_asyncapi_with_the_contracts_names() -> None:
    assert DOC["asyncapi"].startswith("2.6")
    settings = Settings()
    assert set(DOC["channels"]) == {
        settings.events_exchange,
        settings.dead_letter_queue,
        settings.outcomes_exchange,
    }
    outcomes = DOC["channels"][settings.outcomes_exchange]["bindings"]["amqp"]["exchange"]
    assert (outcomes["type"], outcomes["durable"]) == ("topic", True)
    exchange = DOC["channels"][settings.events_exchange]["bindings"]["amqp"]["exchange"]
    assert (exchange["type"], exchange["durable"]) == ("topic", True)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_field_and_whether_it_is_required(name: str) -> None:
    schema, fields = SCHEMAS[name], MODELS[name].model_fields
    assert set(schema["properties"]) == set(fields)
    assert set(schema.get("required", [])) == {
        f for f, info in fields.items() if info.is_required()
    }
    assert "additionalProperties" not in schema  # unknown fields are ignored everywhere


def test_every_enum_matches_the_code() -> None:
    event = SCHEMAS["Event"]["properties"]
    assert event["event_type"]["enum"] == list(EVENT_TYPES)
    assert SCHEMAS["CompensationType"]["enum"] == list(COMPENSATION_TYPES)
    assert SCHEMAS["Decision"]["properties"]["outcome"]["enum"] == [o.value for o in Outcome]
    kinds = SCHEMAS["Organisation"]["properties"]["kind"]["enum"]
    assert kinds == [k.value for k in OrganisationKind]
    assert event["schema_version"]["const"] == 1


def required_by_document(event_type: str) -> set[str]:
    for rule in SCHEMAS["Event"]["allOf"]:
        if rule["if"]["properties"]["event_type"]["const"] == event_type:
            return set(rule["then"]["required"])
    return set()


@pytest.mark.parametrize("event_type", list(EVENT_TYPES))
def test_the_parts_each_event_type_needs(event_type: str) -> None:
    """Leave out each optional part in turn: the model refuses exactly those the document
    names as required for that event type."""
    refused = set()
    optional = [f for f, info in Event.model_fields.items() if not info.is_required()]
    for part in optional:
        payload = {k: v for k, v in FULL.items() if k != part} | {"event_type": event_type}
        try:
            Event.model_validate(payload)
        except ValidationError:
            refused.add(part)
    assert refused == required_by_document(event_type)


def spec_accepts(payload: object) -> bool:
    """Whether the document's Event schema takes `payload`, $refs resolved within it."""
    schema = SCHEMAS["Event"] | {"components": DOC["components"]}
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return validator.is_valid(payload)


def code_accepts(payload: object) -> bool:
    try:
        parse_event(json.dumps(payload).encode())
    except InvalidEvent:
        return False
    return True


def test_the_document_reads_the_same_in_yaml_1_1_and_1_2() -> None:
    """A value whose type YAML 1.1 and 1.2 read differently (0180, yes, 1_000) is quoted."""
    assert yaml.safe_load(SPEC.read_text(encoding="utf-8")) == DOC


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_every_example_passes_its_schema_and_the_service(example: dict[str, Any]) -> None:
    assert spec_accepts(example["payload"])
    assert code_accepts(example["payload"])
    assert example["payload"]["event_type"] == example["name"]


def with_(path: str, value: object) -> dict[str, Any]:
    """The payment.disbursed example with one field set (None: left out; NULL: null)."""
    payload = copy.deepcopy(EXAMPLES[0]["payload"])
    *parents, leaf = path.split(".")
    part = payload
    for key in parents:
        part = part[key]
    if value is None:
        del part[leaf]
    else:
        part[leaf] = None if value is NULL else value
    return payload


NULL = object()
# Each case: (field, value, accepted). Where the code once took more than the document,
# the document won: see the module docstring of notifier/outbox/events.py.
EDGES = [
    ("organisation.code", 180, False),  # what YAML 1.2 makes of an unquoted 0180
    ("organisation.name", "Stockholm", True),  # unknown fields are ignored, here too
    ("source_system", "e-tjansten", True),
    ("payment.note", "x", True),
    ("payment.amount_sek", 12345.5, False),  # money is a decimal string, never a float
    ("payment.amount_sek", "1e3", False),
    ("payment.amount_sek", "12345.505", False),
    ("payment.amount_sek", "-100", True),
    ("person", NULL, True),  # an optional part as null counts as absent
    ("case.case_officer", NULL, True),
    ("case", NULL, False),  # a part the event type needs
    ("organisation", NULL, False),
    ("compensation_type", NULL, False),
    ("event_id", "6F1C1E9E-0B7A-4A53-9A43-1F0F6A1D2B11", True),  # RFC 4122: either case
    ("event_id", "{6f1c1e9e-0b7a-4a53-9a43-1f0f6a1d2b11}", False),
    ("event_id", "6f1c1e9e0b7a4a539a431f0f6a1d2b11", False),
    ("schema_version", 1.0, True),  # the same JSON number as 1
    ("schema_version", "1", False),
    ("schema_version", 2, False),
    ("occurred_at", "2026-11-26T10:15:00", False),  # no UTC offset
]


@pytest.mark.parametrize(("field", "value", "accepted"), EDGES)
def test_the_document_and_the_service_accept_the_same(
    field: str, value: object, accepted: bool
) -> None:
    payload = with_(field, value)
    assert (spec_accepts(payload), code_accepts(payload)) == (accepted, accepted)


def test_an_uppercase_event_id_is_the_same_event() -> None:
    upper = with_("event_id", "6F1C1E9E-0B7A-4A53-9A43-1F0F6A1D2B11")
    assert parse_event(json.dumps(upper).encode()).id == EXAMPLES[0]["payload"]["event_id"]
