"""The routing decision: a pure function of the inquiry, the rules and the moment."""

from datetime import datetime
from typing import Any

from domain.compensation import COMPENSATION_TYPES, Unit
from routing.decision import clock
from routing.decision.rules import Rule, RuleSet
from routing.decision.schemas import Contact, ContactData, Decision, Destination, Inquiry, RuleRef

# Where the route is Migrationsverket's own, a ticket is opened; elsewhere the person is
# only told where to turn (docs/contracts.md §3).
TICKET_DESTINATIONS = frozenset(
    {
        Destination.SEA,
        Destination.SEN,
        Destination.MV_KONTAKTCENTER_KOMMUN,
        Destination.MV_KONTAKTCENTER_REGION,
    }
)


def route(inquiry: Inquiry, rules: RuleSet, now: datetime) -> Decision:
    """Where `inquiry` belongs, as of when it was asked (`asked_at`, else `now`)."""
    at = inquiry.asked_at or now
    if at.tzinfo is None:
        raise ValueError("route() needs an aware datetime")
    facts = facts_of(inquiry, rules)
    rule = next(rule for rule in rules.rules if matches(rule, facts))
    return Decision(
        primary=contact(rules, primary_data(rules, rule), at),
        secondary=(contact(rules, rules.contacts[rule.secondary], at) if rule.secondary else None),
        requires=list(rule.requires),
        advice=advice(rule, rules, facts, at),
        rule=RuleRef(id=rule.id, version=rules.version),
    )


def primary_data(rules: RuleSet, rule: Rule) -> ContactData:
    """The destination's contact, with what the rule overrides (e.g. a self-service name)."""
    return rules.contacts[rule.primary].model_copy(update=rule.overrides)


def needs_ticket(decision: Decision) -> bool:
    return decision.primary.destination in TICKET_DESTINATIONS


def facts_of(inquiry: Inquiry, rules: RuleSet) -> dict[str, Any]:
    """The values the rules' conditions test."""
    return {
        "issue_type": inquiry.issue_type,
        "login_step": inquiry.login_step,
        "login_method": inquiry.login_method,
        "organisation_kind": inquiry.organisation.kind if inquiry.organisation else None,
        "unit": unit_of(inquiry, rules),
        "internet_explorer": is_internet_explorer(inquiry.browser, rules),
    }


def unit_of(inquiry: Inquiry, rules: RuleSet) -> Unit | None:
    """SEA or SEN: the compensation type's own unit, else the target group's."""
    if inquiry.compensation_type in COMPENSATION_TYPES:
        return COMPENSATION_TYPES[inquiry.compensation_type].unit
    if inquiry.target_group is not None:
        return rules.target_groups[inquiry.target_group]
    return None


def is_internet_explorer(user_agent: str | None, rules: RuleSet) -> bool:
    return bool(user_agent and rules.internet_explorer.search(user_agent))


def matches(rule: Rule, facts: dict[str, Any]) -> bool:
    if not rule.when:
        return True
    return any(
        all(facts[key] in accepted for key, accepted in alternative.items())
        for alternative in rule.when
    )


def contact(rules: RuleSet, data: ContactData, at: datetime) -> Contact:
    result = Contact(**data.model_dump())
    if data.phone:
        result.phone_open_now = clock.phone_open(at, rules.phone, rules.timezone)
        # Open now: the question is answered; a later opening would only confuse.
        if not result.phone_open_now:
            result.phone_opens_next = clock.phone_opens_next(at, rules.phone, rules.timezone)
    return result


def advice(rule: Rule, rules: RuleSet, facts: dict[str, Any], at: datetime) -> list[str]:
    lines = list(rule.advice)
    if rule.deadline:
        passed = clock.has_passed(rules.deadlines[rule.deadline.name], at, rules.timezone)
        lines.append(rule.deadline.after if passed else rule.deadline.before)
    if facts["internet_explorer"] and rules.browser_advice not in lines:
        lines.append(rules.browser_advice)
    return lines
