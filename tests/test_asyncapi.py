"""docs/asyncapi.yaml and the pydantic event models (notifier/outbox/events.py) say the
same: every field, which are required, every enum, and which parts each event type
needs. Change one without the other and a test here fails."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from domain.compensation import COMPENSATION_TYPES, EVENT_TYPES
from domain.organisations import OrganisationKind, OrganisationRef
from notifier.outbox.events import (
    Announcement,
    Case,
    DecisionPart,
    Event,
    Outcome,
    Payment,
    Person,
)
from notifier.settings import Settings

DOC: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent.parent / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
)
SCHEMAS: dict[str, dict[str, Any]] = DOC["components"]["schemas"]
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
    forbids_extra = MODELS[name].model_config.get("extra") == "forbid"
    assert (schema.get("additionalProperties") is False) == forbids_extra


def test_every_enum_matches_the_code() -> None:
    event = SCHEMAS["Event"]["properties"]
    assert event["event_type"]["enum"] == list(EVENT_TYPES)
    assert event["compensation_type"]["enum"] == list(COMPENSATION_TYPES)
    items = SCHEMAS["Announcement"]["properties"]["compensation_types"]["items"]
    assert items["enum"] == list(COMPENSATION_TYPES)
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


def test_the_examples_are_valid_events() -> None:
    for example in DOC["components"]["messages"]["Event"]["examples"]:
        Event.model_validate(example["payload"])
