"""Where a support mail belongs: the words' reading made into an inquiry, the mailbox the
person chose filling what the words left open, then the same `route()` as the form.

Where the rules have nothing to say (their catch-all), the mailbox's own destination
stands. Where the route's second line is Migrationsverket's and the person says they
already tried the first (their administrator could not help), the second line stands.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.organisations import OrganisationRef
from routing.decision import engine
from routing.decision.rules import RuleSet
from routing.decision.schemas import Decision, Destination, Inquiry, RuleRef
from routing.reading.reader import BELONGS, Found, Reading, relevant
from routing.reading.words import WordTable

MAILBOX_RULE = "mailbox"  # the rule id where the mailbox's destination stood
SECOND_LINE = "second-line"


@dataclass(frozen=True)
class Mail:
    """What the routing needs of a mail: its reading, mailbox, sender and images."""

    reading: Reading
    mailbox: Destination
    address: str  # the support address it was sent to
    organisation: OrganisationRef | None = None
    name: str | None = None
    email: str | None = None
    message: str | None = None
    screenshots: int = 0


@dataclass(frozen=True)
class MailRoute:
    inquiry: Inquiry
    decision: Decision
    fields: dict[str, Found] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # what the rule requires and the mail lacks

    def decision_record(self) -> dict[str, Any]:
        """The decision as a ticket keeps it: its rule names the words of each field."""
        record = self.decision.model_dump(mode="json")
        record["rule"]["fields"] = {name: hit.as_dict() for name, hit in self.fields.items()}
        return record


def with_mailbox(mail: Mail, table: WordTable) -> dict[str, Found]:
    """The words' fields, and the mailbox's where the words left them open."""
    fields = dict(mail.reading.fields)
    defaults = table.mailbox.get(mail.mailbox, {})
    if "issue_type" in defaults:
        fields.setdefault(
            "issue_type", Found(defaults["issue_type"], MAILBOX_RULE, (mail.address,))
        )
    issue = fields["issue_type"].value if "issue_type" in fields else None
    for name, value in defaults.items():
        if issue in BELONGS.get(name, {issue}):
            fields.setdefault(name, Found(value, MAILBOX_RULE, (mail.address,)))
    return relevant(fields)


def inquiry_of(mail: Mail, fields: dict[str, Found], asked_at: datetime) -> Inquiry:
    values: dict[str, Any] = {name: hit.value for name, hit in fields.items()}
    values.setdefault("issue_type", "eservice_general")  # only routed if a rule matches it
    return Inquiry(
        **values,
        organisation=mail.organisation,
        name=mail.name,
        email=mail.email,
        message=mail.message,
        asked_at=asked_at,
    )


def route_mail(mail: Mail, rules: RuleSet, table: WordTable, now: datetime) -> MailRoute:
    fields = with_mailbox(mail, table)
    inquiry = inquiry_of(mail, fields, now)
    decision = engine.route(inquiry, rules, now)
    if "issue_type" not in fields or decision.rule.id == rules.rules[-1].id:
        decision = stands(rules, mail.mailbox, now)
        fields["destination"] = Found(str(mail.mailbox), MAILBOX_RULE, (mail.address,))
    elif (escalate := mail.reading.escalate) and tried_first_line(decision):
        decision = second_line(decision, rules)
        destination = decision.primary.destination
        fields["destination"] = Found(str(destination), escalate.rule, escalate.words)
    return MailRoute(inquiry, decision, fields, missing(decision, fields, mail))


def tried_first_line(decision: Decision) -> bool:
    second = decision.secondary
    return second is not None and second.destination in engine.TICKET_DESTINATIONS


def stands(rules: RuleSet, mailbox: Destination, now: datetime) -> Decision:
    """The mailbox's destination, as the rules file names its contact."""
    primary = engine.contact(rules, rules.contacts[mailbox], now)
    return Decision(primary=primary, rule=RuleRef(id=MAILBOX_RULE, version=rules.version))


def second_line(decision: Decision, rules: RuleSet) -> Decision:
    assert decision.secondary is not None
    rule = RuleRef(id=f"{decision.rule.id}/{SECOND_LINE}", version=rules.version)
    return decision.model_copy(
        update={"primary": decision.secondary, "secondary": None, "rule": rule}
    )


def missing(decision: Decision, fields: dict[str, Found], mail: Mail) -> tuple[str, ...]:
    """The rule's requirements the mail does not meet: the screenshot at login step one,
    the diarienummer for SEA and SEN (the case officer only "if one is assigned")."""
    lacks = []
    if "screenshot" in decision.requires and not mail.screenshots:
        lacks.append("screenshot")
    if "diarienummer" in decision.requires and "diarienummer" not in fields:
        lacks.append("diarienummer")
    return tuple(lacks)
