"""Headers on the raw bytes (issue 26): text headers fold at 78, a person's answer is
not marked automatic, and the login-link option leaves the e-service unlinked."""

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.compensation import EVENT_TYPES, PermissionLevel
from notifier.channels.mime import Composer
from notifier.compose import build_renderer, build_services
from notifier.outbox.events import Event
from notifier.outbox.models import OutboxMessage
from notifier.settings import Settings
from tests.pipeline_helpers import event_body
from tests.test_email_wire import parsed, renderer

LONG_TITLE = "Försenade schabloner enligt massflyktsdirektivet för juni, juli och augusti"


def wire(**fields: Any) -> bytes:
    row = OutboxMessage(id=1, message_id="m1", kind="notification", recipient="a@b.se", **fields)
    return Composer("no-reply@migrationsverket.se").wire(row)  # type: ignore[arg-type]


def head(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def subjects() -> list[str]:
    announcement = {"title": LONG_TITLE, "body": "Text.", "compensation_types": []}
    found = []
    for event_type in sorted(EVENT_TYPES):
        body = event_body(event_type=event_type, announcement=announcement)
        email = renderer().render(Event.model_validate(body), level=None, user_id="u1")
        found.append(email.subject)
    return [*found, "Sammanfattning 27 november 2026: tolv händelser i Ansök om statlig ersättning"]


@pytest.mark.parametrize("subject", subjects())
def test_every_subject_folds_within_78_characters_and_reads_back_whole(subject: str) -> None:
    raw = wire(subject=subject, body_text="Hej!")
    lines = [line for line in head(raw) if not line.startswith(b"List-")]
    assert max(len(line) for line in lines) <= 78, lines
    assert parsed(raw)["Subject"] == subject


def test_an_ascii_subject_folds_at_its_spaces() -> None:
    subject = "Aktuellt: " + "driftstorning i e-tjansten " * 5
    raw = wire(subject=subject.strip(), body_text="Hej!")
    assert max(len(line) for line in head(raw)) <= 78
    assert parsed(raw)["Subject"] == subject.strip()


def test_a_long_unsubscribe_url_stays_on_one_line() -> None:
    url = "<https://notifier.migrationsverket.se/unsubscribe/" + "x" * 150 + ">"
    raw = wire(subject="S", body_text="Hej!", headers={"List-Unsubscribe": url})
    assert f"List-Unsubscribe: {url}".encode() in head(raw)


def test_a_person_s_answer_is_not_marked_automatic_but_everything_else_is() -> None:
    answer = head(wire(subject="Svar", body_text="Hej!", headers={"Auto-Submitted": "no"}))
    assert b"Auto-Submitted: no" in answer
    assert not [line for line in answer if b"auto-generated" in line or b"X-Auto-" in line]
    automatic = head(wire(subject="Kvitto", body_text="Hej!"))
    assert b"Auto-Submitted: auto-generated" in automatic


@pytest.mark.parametrize("login_links", [True, False])
def test_without_login_links_the_email_names_the_eservice_in_words(
    settings: Settings, engine: AsyncEngine, login_links: bool
) -> None:
    eservice = "https://e-tjanst.migrationsverket.se/statlig-ersattning"
    configured = settings.model_copy(
        update={"eservice_url": eservice, "email_login_links": login_links}
    )
    rendering = build_renderer(build_services(configured, engine))
    event = Event.model_validate(event_body(event_type="payment.disbursed"))
    email = rendering.render(event, level=PermissionLevel.FULL, user_id="u1")
    assert (eservice in email.text + email.html) is login_links
    assert "e-tjänsten Ansök om statlig ersättning" in email.text
