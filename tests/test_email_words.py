"""What the emails say and how they are laid out (issue 26): klarspråk, one name for
each place, the frame that survives real mail clients, dark mode and the preheader."""

import re
from datetime import date
from typing import Any

import pytest

from domain.compensation import EVENT_TYPES, PermissionLevel
from notifier.kinds.digest import Item, render_digest
from notifier.kinds.rendering import Email
from notifier.outbox.events import Event
from tests.pipeline_helpers import MASSFLYKT, event_body
from tests.test_email_wire import renderer

ALL = sorted(EVENT_TYPES)


def render(
    event_type: str, level: PermissionLevel | None = PermissionLevel.FULL, **body: Any
) -> Email:
    event = Event.model_validate(event_body(event_type=event_type, **body))
    return renderer().render(event, level=level, user_id="u1")


def words(html: str) -> str:
    """The HTML as a reader sees it: tags gone, no-break spaces as spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("\u00a0", " ").split())


def digest(*events: dict[str, Any]) -> Email:
    items = [Item(Event.model_validate(body), PermissionLevel.FULL) for body in events]
    return render_digest(
        renderer(), items, day=date(2026, 11, 27), preferences_url="https://n.se/mina/x"
    )


@pytest.mark.parametrize("event_type", ALL)
def test_the_reader_is_du_never_ni(event_type: str) -> None:
    email = render(event_type)
    for part in (email.subject, email.text, words(email.html)):
        assert not re.search(r"\b(Er|er|Ni|ni|Ert|ert|Era|era)\b", part), part


def test_the_submitted_email_says_the_application_came_in() -> None:
    assert "Ansökan har kommit in till Migrationsverket den 26 november 2026." in words(
        render("application.submitted").html
    )


def test_an_automatic_payment_is_called_schablonersattning_utbetald() -> None:
    email = render("payment.automatic")
    assert email.subject.startswith("Schablonersättning utbetald")
    assert "(schablon)" not in email.text + email.html
    assert EVENT_TYPES["payment.automatic"] == "Schablonersättning utbetald"


@pytest.mark.parametrize(
    ("organisation", "name"),
    [
        ({"kind": "kommun", "code": "0180"}, "Stockholms kommun"),
        ({"kind": "region", "code": "12"}, "Region Skåne"),
    ],
)
def test_the_organisation_is_named_as_it_names_itself(
    organisation: dict[str, str], name: str
) -> None:
    email = render("payment.disbursed", organisation=organisation)
    assert f"Organisation: {name}\n" in email.text
    assert f">{name}</td>" in email.html


@pytest.mark.parametrize("event_type", ALL)
def test_every_line_is_said_once_and_every_block_ends_its_line(event_type: str) -> None:
    email = render(event_type)
    assert email.text.count("e-tjänsten Ansök om statlig ersättning för att") == 1
    assert "Läs det i e-tjänsten" not in email.text
    # Each field on its own line, a blank line before them (the message ends its line).
    assert re.search(r"[.!]\n\n+(Ersättning: |Gäller: |Logga in )", email.text), email.text


def test_the_place_to_choose_has_one_name_mina_notifieringar() -> None:
    for email in (render("payment.disbursed"), digest(event_body())):
        for part in (email.text, words(email.html)):
            assert "Mina notifieringar" in part
            assert "fliken" not in part and "under Notifieringar" not in part


@pytest.mark.parametrize("event_type", ALL)
def test_text_and_html_close_with_the_same_words_and_quotes(event_type: str) -> None:
    email = render(event_type)
    label = EVENT_TYPES[event_type]
    footer = f"Du får det här mejlet för att du har slagit på notifieringen ”{label}”."
    assert footer in email.text and footer in words(email.html)
    assert '"' + label not in email.text
    sender = "Har du frågor? Använd supportsidan"
    assert sender in email.text and sender in words(email.html)
    assert "https://notifier.migrationsverket.se/support" in email.text
    assert 'href="https://notifier.migrationsverket.se/support"' in email.html
    assert "etjanstkommuner@migrationsverket.se" in email.text + email.html


@pytest.mark.parametrize("event_type", ALL)
def test_the_html_is_a_600_px_presentation_table_with_inline_styles(event_type: str) -> None:
    html = render(event_type).html
    assert 'role="presentation"' in html and "max-width: 600px" in html
    assert '<table role="presentation" width="600"' in html  # Outlook's fixed column
    body = re.search(r"<body[^>]*>", html)
    assert body and "max-width" not in body.group()
    assert "<dl>" not in html  # details are a two-column table
    if event_type != "service.announcement":  # an announcement has no case
        assert re.search(r"<th scope=\"row\"[^>]*>Diarienummer</th>", html)
    band = re.search(r'class="band"[^>]*>(.*?)</td>', html, re.S)
    assert band and "Migrationsverket" in band.group(1)
    assert "Ansök om statlig ersättning" in band.group(1)


@pytest.mark.parametrize("event_type", ALL)
def test_dark_mode_is_declared_and_every_text_cell_sets_both_colours(event_type: str) -> None:
    html = render(event_type).html
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "prefers-color-scheme: dark" in html
    for cell in re.findall(r'<td class="(?:band|card)"[^>]*>', html):
        assert "background-color:" in cell and re.search(r"[^-]color:", cell)


@pytest.mark.parametrize(
    ("event_type", "news"),
    [
        ("payment.disbursed", "Migrationsverket har betalat ut 12 345,50 kr den 25 november 2026."),
        ("application.message", "Det har kommit ett nytt meddelande i ansökan."),
    ],
)
def test_the_inbox_preview_shows_the_news_not_hej(event_type: str, news: str) -> None:
    html = render(event_type).html
    body = html.split("<body", 1)[1]
    preheader = re.search(r'<div style="display: none;[^>]*>([^<]*)', body)
    assert preheader and words(preheader.group(1)).startswith(news)
    assert body.index(preheader.group(1)) < body.index("Hej!")


def test_a_digest_files_an_announcement_under_what_it_concerns_and_keeps_its_text() -> None:
    announcement = {
        "title": "Försenade schabloner",
        "body": "Pengarna kommer i september.",
        "compensation_types": [MASSFLYKT],
    }
    email = digest(event_body("service.announcement", announcement=announcement))
    assert "Alla ersättningar" not in email.text + email.html
    assert "Aktuellt i e-tjänsten – Schablon enligt fördelningstal" in email.text
    assert "Pengarna kommer i september." in email.text
    assert "Pengarna kommer i september." in email.html


def test_a_digest_counts_in_words_and_says_decisions_plainly() -> None:
    email = digest(event_body("application.decided", decision={"outcome": "partially_approved"}))
    assert "sedan förra sammanfattningen: en händelse." in email.text
    assert ": en händelse" in email.subject
    assert "Beslut: Ansökan delvis beviljad" in email.text
