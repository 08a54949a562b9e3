"""Event schema v1: what is an event, and the reason given when a message is not."""

import json

import pytest

from domain.compensation import EVENT_TYPES
from notifier.outbox.events import InvalidEvent, parse_event
from tests.pipeline_helpers import encode, event_body


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_of_the_contract_parses(event_type: str) -> None:
    body = event_body(event_type)
    assert parse_event(encode(body)).id == body["event_id"]


def test_unknown_fields_are_ignored_so_the_producer_may_add_some() -> None:
    assert parse_event(encode(event_body(channel="web", extra={"a": 1})))


def test_an_announcement_may_go_to_every_organisation() -> None:
    body = event_body("service.announcement")
    del body["organisation"]
    assert parse_event(encode(body)).organisation is None


def _without(part: str, event_type: str = "payment.disbursed") -> bytes:
    body = event_body(event_type)
    del body[part]
    return encode(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"this is not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "message: Input should be an object"),
        (encode({"schema_version": 1}), "event_id: Field required"),
        (encode(event_body(schema_version=2)), "schema_version: Input should be 1"),
        (encode(event_body(event_type="payment.cancelled")), "unknown event type"),
        (encode(event_body(compensation_type="bostad")), "unknown compensation type"),
        (encode(event_body(organisation={"kind": "kommun", "code": "9999"})), "organisation"),
        (encode(event_body(organisation={"kind": "land", "code": "01"})), "organisation.kind"),
        (encode(event_body(event_id="not-a-uuid")), "event_id"),
        (encode(event_body(occurred_at="2026-11-26T10:15:00")), "occurred_at"),
        (_without("payment"), "payment.disbursed needs payment"),
        (_without("organisation"), "needs organisation"),
        (_without("compensation_type"), "needs compensation_type"),
        (_without("case", "application.submitted"), "needs case"),
        (
            encode(event_body(payment={"amount_sek": "12,50", "paid_on": "2026-11-25"})),
            "payment.amount_sek",
        ),
        (
            encode(
                event_body(
                    "service.announcement",
                    announcement={"title": "t", "body": "b", "compensation_types": ["x"]},
                )
            ),
            "unknown compensation type",
        ),
    ],
)
def test_invalid_messages_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as refused:
        parse_event(body)
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)  # it travels in a header


def test_the_reason_does_not_echo_personal_data() -> None:
    body = event_body(person={"name": "Ali Hassan" * 50})
    with pytest.raises(InvalidEvent) as refused:
        parse_event(json.dumps(body).encode())
    assert "Hassan" not in str(refused.value)
