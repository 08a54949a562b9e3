"""Swedish emails from the templates: pure rendering, table-driven, no I/O beyond loading
the packaged templates."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.compensation import EVENT_TYPES, PermissionLevel
from domain.swedish import datum, kronor
from notifier.kinds.rendering import Email, Footer, Renderer
from notifier.outbox.events import Event
from notifier.templating import email_environment
from tests.pipeline_helpers import event_body

BASE_URL = "https://notifier.example.se"
ESERVICE_URL = "https://statligersattning.migrationsverket.se/"
PERSON = "Ali Hassan"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(
        email_environment(),
        eservice_url=ESERVICE_URL,
        unsubscribe_url=lambda user, event_type: f"{BASE_URL}/unsubscribe/{user}.{event_type}",
        preferences_url=lambda user: f"{BASE_URL}/mina-notifieringar/{user}",
        footer=Footer(
            contact_email="etjanstkommuner@migrationsverket.se", support_url=f"{BASE_URL}/support"
        ),
    )


def visible(text: str) -> str:
    """What a reader sees: non-breaking spaces look like spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def everything(email: Email) -> str:
    return "\n".join([email.subject, email.text, email.html, *email.headers.values()])


def render(renderer: Renderer, level: PermissionLevel | None, **body: Any) -> Email:
    event = Event.model_validate(event_body(**body))
    return renderer.render(event, level=level, user_id="u1")


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("12345.50"), "12 345,50 kr"),
        (Decimal("0.5"), "0,50 kr"),
        (Decimal("100"), "100,00 kr"),
        (Decimal("1234567.05"), "1 234 567,05 kr"),
    ],
)
def test_amounts_are_written_the_swedish_way(amount: Decimal, shown: str) -> None:
    assert visible(kronor(amount)) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (date(2026, 11, 25), "25 november 2026"),
        (date(2027, 1, 1), "1 januari 2027"),
        (date(2026, 5, 9), "9 maj 2026"),
        # Late on New Year's Eve in UTC is already the new year in Sweden.
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "1 januari 2027"),
    ],
)
def test_dates_are_written_the_swedish_way(value: date, shown: str) -> None:
    # No-break spaces: a narrow screen never splits "26 november / 2026".
    assert datum(value) == shown.replace(" ", "\u00a0")


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
@pytest.mark.parametrize("level", [PermissionLevel.FULL, PermissionLevel.SUMMARY])
def test_every_event_type_renders_subject_text_and_html(
    renderer: Renderer, event_type: str, level: PermissionLevel
) -> None:
    email = render(renderer, level, event_type=event_type)
    assert email.subject and "\n" not in email.subject
    assert "None" not in everything(email)
    assert ESERVICE_URL in email.text and f'href="{ESERVICE_URL}"' in email.html
    assert email.html.startswith("<!DOCTYPE html>") and 'lang="sv"' in email.html
    if event_type != "service.announcement":
        assert "1.1.3-2026-123456" in email.subject + email.text
        assert "Dygnsschablon för asylsökande ensamkommande barn" in email.text


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_summary_permission_never_names_the_person(renderer: Renderer, event_type: str) -> None:
    email = render(renderer, PermissionLevel.SUMMARY, event_type=event_type)
    assert PERSON not in everything(email)
    assert "Hassan" not in everything(email)


@pytest.mark.parametrize("event_type", ["application.submitted", "payment.disbursed"])
def test_full_permission_may_name_the_person(renderer: Renderer, event_type: str) -> None:
    email = render(renderer, PermissionLevel.FULL, event_type=event_type)
    assert PERSON in email.text and PERSON in email.html
    assert PERSON not in email.subject  # subjects show in lists and lock screens


def test_a_personal_identity_number_is_never_rendered(renderer: Renderer) -> None:
    person = {"name": PERSON, "personal_identity_number": "19900101-1234"}
    email = render(renderer, PermissionLevel.FULL, person=person)
    assert "19900101" not in everything(email)


def test_payment_shows_amount_and_date_in_swedish(renderer: Renderer) -> None:
    email = render(renderer, PermissionLevel.SUMMARY, event_type="payment.disbursed")
    assert "12 345,50 kr" in visible(email.subject)
    for part in (email.text, email.html):
        assert "12 345,50 kr" in visible(part)
        assert "25\u00a0november\u00a02026" in part


@pytest.mark.parametrize(
    ("outcome", "shown"),
    [
        ("approved", "har beviljat ansökan"),
        ("partially_approved", "har delvis beviljat ansökan"),
        ("rejected", "har avslagit ansökan"),
    ],
)
def test_decision_outcome_in_swedish(renderer: Renderer, outcome: str, shown: str) -> None:
    email = render(
        renderer,
        PermissionLevel.FULL,
        event_type="application.decided",
        decision={"outcome": outcome},
    )
    assert f"Migrationsverket {shown} den 26 november 2026." in visible(email.text)
    assert "bifall" not in email.text + email.html and "avslag " not in email.text


def test_html_is_escaped_and_text_is_not(renderer: Renderer) -> None:
    announcement = {"title": "Drift <b>&</b> underhåll", "body": "Läs <mer>"}
    email = render(renderer, None, event_type="service.announcement", announcement=announcement)
    assert "Drift &lt;b&gt;&amp;&lt;/b&gt; underhåll" in email.html
    assert "<b>" not in email.html and "Läs &lt;mer&gt;" in email.html
    assert "Drift <b>&</b> underhåll" in email.text


def test_announcement_names_the_compensation_types_it_concerns(renderer: Renderer) -> None:
    announcement = {
        "title": "Försenade schabloner",
        "body": "Pengarna kommer i september.",
        "compensation_types": ["schablon-fordelningstal-massflykt"],
    }
    email = render(renderer, None, event_type="service.announcement", announcement=announcement)
    assert email.subject == "Aktuellt i e-tjänsten: Försenade schabloner"
    assert "Schablon enligt fördelningstal för ordnat boende för massflyktingar" in email.text


def test_one_click_unsubscribe_headers(renderer: Renderer) -> None:
    email = render(renderer, PermissionLevel.FULL)
    url = f"{BASE_URL}/unsubscribe/u1.payment.disbursed"
    assert email.headers == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert url in email.text and url in email.html
