"""The forward of a ticket: rendered in Swedish, addressed by configuration only, never by
default to a real Migrationsverket address."""

import json
from typing import Any

import pytest

from domain.sqltypes import utcnow
from notifier.kinds.tickets import forward_message, render
from notifier.settings import FORWARD_DESTINATIONS, Settings
from routing.decision.engine import TICKET_DESTINATIONS
from routing.ticketing.models import Ticket

KEY = b"test-signing-key-of-at-least-32-bytes"


def ticket(**overrides: Any) -> Ticket:
    inquiry = {
        "issue_type": "compensation",
        "organisation": {"kind": "kommun", "code": "1480"},
        "compensation_type": "dygnsschablon-ensamkommande",
        "name": "Anna Berg",
        "email": "anna.berg@goteborg.se",
        "diarienummer": "1.1.3-2026-123456",
        "message": "Utbetalningen för juni saknas.",
    }
    fields: dict[str, Any] = {
        "id": "6f1c1e9e-0b7a-4a53-9a43-1f0f6a1d2b11",
        "reference": "SUP-ABCD2345",
        "destination": "sea",
        "inquiry": inquiry,
        "decision": {"primary": {"destination": "sea"}},
        "rule_id": "compensation-sea",
        "rule_version": "0123456789abcdef",
        "created_at": utcnow(),
    }
    return Ticket(**(fields | overrides))


def test_defaults_forward_nowhere_real() -> None:
    mailboxes = Settings().forward_mailboxes
    assert set(mailboxes) == set(TICKET_DESTINATIONS) == set(FORWARD_DESTINATIONS)
    assert all(address.endswith(".invalid") for address in mailboxes.values())
    assert not any("migrationsverket.se" in address for address in mailboxes.values())
    assert Settings().forward_endpoints == {}


def test_mailboxes_and_endpoints_are_json_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTIFIER_FORWARD_MAILBOXES", '{"sea": "sea@staging.test"}')
    monkeypatch.setenv("NOTIFIER_FORWARD_ENDPOINTS", '{"sen": "https://sen.test/tickets"}')
    settings = Settings()
    assert settings.forward_mailboxes == {"sea": "sea@staging.test"}
    assert settings.forward_endpoints == {"sen": "https://sen.test/tickets"}


def test_an_unknown_destination_in_configuration_fails_at_start() -> None:
    with pytest.raises(ValueError, match="inera"):
        Settings(forward_endpoints={"inera": "https://x.test"})


def test_the_forward_reads_as_a_swedish_case_summary() -> None:
    subject, text = render(ticket())
    assert subject == "[SUP-ABCD2345] Fråga om ersättning – Göteborgs kommun (1480)"
    for line in [
        "Ersättning: Dygnsschablon för asylsökande ensamkommande barn",
        "Diarienummer: 1.1.3-2026-123456",
        "E-post: anna.berg@goteborg.se",
        "Utbetalningen för juni saknas.",
        "regel compensation-sea (version 0123456789abcdef)",
    ]:
        assert line in text


def test_the_forward_gives_the_time_of_the_question_in_swedish_time() -> None:
    asked = ticket().inquiry | {"asked_at": "2026-11-26T18:44:00Z"}
    _, text = render(ticket(inquiry=asked))
    assert "Frågan ställd: 2026-11-26 19.44 (svensk tid)" in text


def test_a_forward_is_mailed_to_the_configured_mailbox_once_per_ticket() -> None:
    settings = Settings(forward_mailboxes={"sea": "sea@staging.test"})
    first, again = (
        forward_message(ticket(), settings, KEY),
        forward_message(ticket(), settings, KEY),
    )

    assert (first.channel, first.recipient, first.kind) == ("email", "sea@staging.test", "ticket")
    assert first.ticket_id == ticket().id
    assert first.message_id == again.message_id
    # Without a reply domain nothing to reply to; never the asker's address beside our From.
    assert first.headers == {}
    assert "E-post: anna.berg@goteborg.se" in (first.body_text or "")
    rerouted = forward_message(ticket(destination="sen"), settings, KEY)
    assert rerouted.message_id != first.message_id
    assert rerouted.recipient == "sen@tickets.statlig-ersattning.invalid"


def test_a_reply_to_a_forward_goes_through_the_ticket_not_to_the_asker() -> None:
    settings = Settings(reply_domain="svar.migrationsverket.se")
    reply_to = forward_message(ticket(), settings, KEY).headers["Reply-To"]
    assert reply_to.startswith("svar+") and reply_to.endswith("@svar.migrationsverket.se")


def test_a_configured_endpoint_gets_the_ticket_as_json() -> None:
    settings = Settings(forward_endpoints={"sea": "https://sea.test/tickets"})
    message = forward_message(ticket(), settings, KEY)

    assert (message.channel, message.recipient) == ("http", "https://sea.test/tickets")
    document = json.loads(message.body_text or "")
    assert document["ticket"]["reference"] == "SUP-ABCD2345"
    assert document["ticket"]["rule"] == {"id": "compensation-sea", "version": "0123456789abcdef"}
    assert document["inquiry"]["diarienummer"] == "1.1.3-2026-123456"
    assert document["subject"].startswith("[SUP-ABCD2345]")
