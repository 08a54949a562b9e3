"""Swedish notification emails from templates/email/: a subject, a plain-text and an HTML
part per event type.

What a template may show is decided here, before it sees anything: with a `summary` grant
(or none) the person is left out of the context altogether, so no template, header or
subject can name them. No event carries a personal identity number, and none is rendered.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape

from domain.compensation import COMPENSATION_TYPES, EVENT_TYPES, PermissionLevel
from domain.organisations import find_organisation
from notifier.kinds.markdown import URL
from notifier.outbox.events import Event, Outcome

# Plain words for the decision ("Migrationsverket har beviljat ansökan"), not the legal
# terms bifall / delvis bifall / avslag.
OUTCOMES = {
    Outcome.APPROVED: "beviljat",
    Outcome.PARTIALLY_APPROVED: "delvis beviljat",
    Outcome.REJECTED: "avslagit",
}
DECISIONS = {
    Outcome.APPROVED: "Ansökan beviljad",
    Outcome.PARTIALLY_APPROVED: "Ansökan delvis beviljad",
    Outcome.REJECTED: "Ansökan avslagen",
}

UnsubscribeUrl = Callable[[str, str], str]  # (user_id, event_type) -> URL
PreferencesUrl = Callable[[str], str]  # user_id -> the user's "Mina notifieringar" page


@dataclass(frozen=True, slots=True)
class Footer:
    """Who every email says it comes from and where to ask instead, in its footer."""

    contact_email: str | None
    support_url: str | None = None


@dataclass(frozen=True, slots=True)
class Email:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def paragraphs(text: str) -> Markup:
    """Plain text as HTML the way it reads as text: a blank line starts a paragraph, a
    line break stays one, and web addresses are links. Everything else is escaped."""
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    return Markup("\n").join(
        Markup('<p style="margin: 0 0 16px;">%s</p>')
        % Markup("<br>\n").join(_linked(line) for line in block.splitlines())
        for block in blocks
    )


def _linked(line: str) -> Markup:
    parts: list[Markup] = []
    end = 0
    for match in URL.finditer(line):
        url = match.group()
        parts += [escape(line[end : match.start()]), Markup('<a href="%s">%s</a>') % (url, url)]
        end = match.end()
    return Markup("").join([*parts, escape(line[end:])])


class Renderer:
    def __init__(
        self,
        env: Environment,
        *,
        eservice_url: str | None,
        unsubscribe_url: UnsubscribeUrl,
        preferences_url: PreferencesUrl,
        # compose.build_renderer gives the real one; without it the footer links nowhere.
        footer: Footer = Footer(contact_email=None),
    ) -> None:
        self._env = env
        self._footer = footer
        # The e-service's address (NOTIFIER_ESERVICE_URL), never this service's own: that
        # answers 404 to someone who wants to log in. Unset: the e-service is only named.
        self._eservice_url = eservice_url
        self._unsubscribe_url = unsubscribe_url
        self._preferences_url = preferences_url

    @property
    def env(self) -> Environment:
        return self._env

    @property
    def eservice_url(self) -> str | None:
        return self._eservice_url

    def common(self) -> dict[str, Any]:
        """What every email's frame shows, whoever it is for."""
        return {
            "eservice_url": self._eservice_url,
            "support_url": self._footer.support_url,
            "contact_email": self._footer.contact_email,
        }

    def render(self, event: Event, *, level: PermissionLevel | None, user_id: str) -> Email:
        unsubscribe = self._unsubscribe_url(user_id, event.event_type)
        context = (
            visible_context(event, level)
            | self.common()
            | {
                "unsubscribe_url": unsubscribe,
                "preferences_url": self._preferences_url(user_id),
            }
        )
        name = event.event_type
        subject = self._env.get_template(f"{name}.subject.txt").render(context)
        return Email(
            # A header is one line, whatever a title contains.
            subject=" ".join(subject.split()),
            text=self._env.get_template(f"{name}.txt").render(context),
            html=self._env.get_template(f"{name}.html").render(context),
            headers={
                # RFC 8058 one-click: mail clients POST to the URL; a GET only asks.
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )


def visible_context(event: Event, level: PermissionLevel | None) -> dict[str, Any]:
    """What the templates may show a recipient holding `level`."""
    org = event.organisation and find_organisation(event.organisation.kind, event.organisation.code)
    announcement = event.announcement
    return {
        "event_label": EVENT_TYPES[event.event_type],
        "occurred_at": event.occurred_at,
        "organisation": org.full_name if org else None,
        "compensation": _compensation_name(event.compensation_type),
        "diarienummer": event.case.diarienummer if event.case else None,
        # The case officer is Migrationsverket's official, not the person the case is about.
        "case_officer": event.case.case_officer if event.case else None,
        "person": event.person.name if event.person and level == PermissionLevel.FULL else None,
        "amount": event.payment.amount_sek if event.payment else None,
        "paid_on": event.payment.paid_on if event.payment else None,
        "outcome": OUTCOMES[event.decision.outcome] if event.decision else None,
        "decision": DECISIONS[event.decision.outcome] if event.decision else None,
        "title": announcement.title if announcement else None,
        "body": announcement.body if announcement else None,
        "concerns": [COMPENSATION_TYPES[code].name for code in announcement.compensation_types]
        if announcement
        else [],
    }


def _compensation_name(code: str | None) -> str | None:
    return COMPENSATION_TYPES[code].name if code else None
