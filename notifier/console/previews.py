"""Every email the service sends, rendered with realistic sample data: each event type at
`full` and `summary`, the daily digest, and the ticket receipt, answer and forward.

The samples go through the very functions the sender uses, so a preview is what a
recipient would get (their own links aside: the preview's point to an example page)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.compensation import ANNOUNCEMENT, EVENT_TYPES, PermissionLevel
from notifier.kinds import ticket_mail
from notifier.kinds.digest import Item, render_digest
from notifier.kinds.rendering import Email, Renderer
from notifier.kinds.tickets import render as render_forward
from notifier.outbox.events import Event, parse_payload
from notifier.settings import Settings
from notifier.workers.sample import sample_events
from routing.decision.schemas import Decision, Destination
from routing.ticketing.models import Ticket

DIGEST = "digest"
RECEIPT, ANSWER, FORWARD = "ticket.receipt", "ticket.answer", "ticket.forward"
# The emails of tickets are plain text, and the same whatever anyone's grant.
TEXT_ONLY = {
    RECEIPT: "Kvitto till den som frågade",
    ANSWER: "Svar från kontaktcenter",
    FORWARD: "Ärende vidare till Migrationsverket",
}
TEMPLATES: dict[str, str] = {**EVENT_TYPES, DIGEST: "Daglig sammanfattning", **TEXT_ONLY}
SAMPLE_ANSWER = (
    "Utbetalningen för oktober gick i väg i går och syns på kontot inom tre bankdagar.\n\n"
    "Vänliga hälsningar,\nKarin Ek, Migrationsverkets kontaktcenter"
)


@dataclass(frozen=True, slots=True)
class Preview:
    subject: str
    text: str
    html: str | None  # None: the email has no HTML part
    headers: dict[str, str]


@dataclass(frozen=True)
class Previews:
    renderer: Renderer  # built with the example links
    settings: Settings
    decision_for: Callable[[Destination], Decision]
    example_link: str

    def render(self, name: str, level: PermissionLevel) -> Preview:
        """`name` of TEMPLATES; KeyError for another."""
        if name in EVENT_TYPES:
            email = self.renderer.render(_sample(name), level=level, user_id="exempel")
            return _preview(email)
        if name == DIGEST:
            items = [Item(_sample(t), level) for t in EVENT_TYPES if t != ANNOUNCEMENT]
            day = date.today()
            return _preview(
                render_digest(self.renderer, items, day=day, preferences_url=self.example_link)
            )
        ticket = sample_ticket()
        if name == RECEIPT:
            text = ticket_mail.receipt_text(
                ticket, self.decision_for(Destination.SEA), self.settings
            )
            subject = f"Vi har tagit emot din fråga [{ticket.reference}]"
        elif name == ANSWER:
            text = ticket_mail.answer_text(ticket, SAMPLE_ANSWER, self.settings)
            subject = f"Svar på din fråga till Migrationsverket [{ticket.reference}]"
        elif name == FORWARD:
            subject, text = render_forward(ticket)
        else:
            raise KeyError(name)
        return Preview(subject=subject, text=text, html=None, headers={})

    def announcement(self, title: str, body: str, compensation_types: list[str]) -> Preview:
        """An announcement as it is written, before it is sent."""
        payload = _payload(ANNOUNCEMENT) | {
            "announcement": {"title": title, "body": body, "compensation_types": compensation_types}
        }
        email = self.renderer.render(parse_payload(payload), level=None, user_id="exempel")
        return _preview(email)


def _preview(email: Email) -> Preview:
    return Preview(subject=email.subject, text=email.text, html=email.html, headers=email.headers)


SAMPLE_CASE = {"diarienummer": "1.1.3-2026-123456", "case_officer": "Lena Ek"}


def _payload(event_type: str) -> dict[str, Any]:
    """The sample event, with the same case every time (the text and the HTML of one
    preview are two renders)."""
    [payload] = [e for e in sample_events() if e["event_type"] == event_type]
    return payload | ({"case": SAMPLE_CASE} if "case" in payload else {})


def _sample(event_type: str) -> Event:
    return parse_payload(_payload(event_type))


def sample_ticket() -> Ticket:
    return Ticket(
        id="00000000-0000-4000-8000-000000000000",
        reference="SUP-7K3M9QX2",
        destination=Destination.SEA,
        inquiry={
            "issue_type": "compensation",
            "organisation": {"kind": "kommun", "code": "0180"},
            "compensation_type": "dygnsschablon-ensamkommande",
            "diarienummer": "1.1.3-2026-123456",
            "name": "Anna Exempel",
            "email": "anna.exempel@example.com",
            "message": "Utbetalningen för oktober syns inte på vårt konto. Har den gått i väg?",
        },
        decision={},
        rule_id="compensation-sea",
        rule_version="exempel",
    )
