"""The routing rules as data: `rules.toml` read once into plain, frozen objects.

A mistake in the file (an unknown destination, condition or field) fails at load, so a
bad edit stops the service at start instead of misrouting someone later.
"""

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from domain.compensation import Unit
from routing.decision.schemas import (
    ContactData,
    Destination,
    IssueType,
    LoginMethod,
    LoginStep,
    TargetGroup,
)

CONDITIONS = {
    "issue_type": IssueType,
    "login_step": LoginStep,
    "login_method": LoginMethod,
    "organisation_kind": None,  # validated below against domain's kinds
    "unit": Unit,
    "internet_explorer": bool,
}
ORGANISATION_KINDS = {"kommun", "region"}
CONTACT_FIELDS = {"name", "email", "phone", "hours", "url", "postal_address"}


class RulesError(ValueError):
    """The rules file is not valid; the message names the place."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """Advice that changes on a date: `before` up to and including the deadline's last
    day, `after` from the next day on."""

    name: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    # Alternatives, each a condition → accepted values map; empty: matches everything.
    when: tuple[dict[str, frozenset[Any]], ...]
    primary: Destination
    secondary: Destination | None = None
    overrides: dict[str, str] = field(default_factory=dict)  # e.g. a self-service name
    requires: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()
    deadline: Deadline | None = None


@dataclass(frozen=True, slots=True)
class PhoneHours:
    weekdays: frozenset[int]
    opens: time
    closes: time
    holiday_country: str
    holiday_categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleSet:
    version: str
    timezone: ZoneInfo
    rules: tuple[Rule, ...]
    contacts: dict[Destination, ContactData]
    phone: PhoneHours
    internet_explorer: re.Pattern[str]
    browser_advice: str
    target_groups: dict[TargetGroup, Unit]
    deadlines: dict[str, date]  # name → last day on which the old state holds


def version_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:16]


@cache
def default_rules() -> RuleSet:
    """The rules shipped with the package."""
    return parse_rules(files("routing.decision").joinpath("rules.toml").read_bytes())


def load_rules(path: Path) -> RuleSet:
    return parse_rules(path.read_bytes())


def parse_rules(content: bytes) -> RuleSet:
    data = tomllib.loads(content.decode("utf-8"))
    try:
        ruleset = _ruleset(data, version_of(content))
    except (KeyError, ValueError, TypeError) as exc:
        raise RulesError(f"rules.toml: {exc}") from exc
    _check(ruleset)
    return ruleset


def _ruleset(data: dict[str, Any], version: str) -> RuleSet:
    return RuleSet(
        version=version,
        timezone=ZoneInfo(data["timezone"]),
        rules=tuple(_rule(raw) for raw in data["rules"]),
        contacts={
            Destination(key): ContactData(destination=Destination(key), **_contact(raw))
            for key, raw in data["contacts"].items()
        },
        phone=_phone(data["phone"]),
        internet_explorer=re.compile(data["browser"]["internet_explorer"]),
        browser_advice=data["browser"]["advice"],
        target_groups={TargetGroup(k): Unit(v) for k, v in data["target_groups"].items()},
        deadlines={name: raw["last_day"] for name, raw in data["deadlines"].items()},
    )


def _contact(raw: dict[str, Any]) -> dict[str, str]:
    unknown = set(raw) - CONTACT_FIELDS
    if unknown:
        raise ValueError(f"unknown contact fields {sorted(unknown)}")
    return {key: str(value) for key, value in raw.items()}


def _rule(raw: dict[str, Any]) -> Rule:
    primary, overrides = _destination(raw["primary"])
    secondary = _destination(raw["secondary"])[0] if "secondary" in raw else None
    deadline = Deadline(**raw["deadline"]) if "deadline" in raw else None
    return Rule(
        id=raw["id"],
        when=tuple(_conditions(raw["id"], alt) for alt in raw.get("when", [])),
        primary=primary,
        secondary=secondary,
        overrides=overrides,
        requires=tuple(raw.get("requires", ())),
        advice=tuple(raw.get("advice", ())),
        deadline=deadline,
    )


def _destination(raw: str | dict[str, str]) -> tuple[Destination, dict[str, str]]:
    """`"sea"` or `{destination = "self_service", name = "…"}` (fields to override)."""
    if isinstance(raw, str):
        return Destination(raw), {}
    overrides = dict(raw)
    destination = Destination(overrides.pop("destination"))
    return destination, _contact(overrides)


def _conditions(rule_id: str, alternative: dict[str, Any]) -> dict[str, frozenset[Any]]:
    conditions: dict[str, frozenset[Any]] = {}
    for key, value in alternative.items():
        if key not in CONDITIONS:
            raise ValueError(f"rule {rule_id}: unknown condition {key!r}")
        values = value if isinstance(value, list) else [value]
        conditions[key] = frozenset(_condition_value(key, v) for v in values)
    return conditions


def _condition_value(key: str, value: Any) -> Any:
    kind = CONDITIONS[key]
    if kind is None:
        if value not in ORGANISATION_KINDS:
            raise ValueError(f"unknown organisation kind {value!r}")
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        return value
    return kind(value)


def _phone(raw: dict[str, Any]) -> PhoneHours:
    return PhoneHours(
        weekdays=frozenset(raw["weekdays"]),
        opens=raw["opens"],
        closes=raw["closes"],
        holiday_country=raw["holiday_country"],
        holiday_categories=tuple(raw["holiday_categories"]),
    )


def _check(ruleset: RuleSet) -> None:
    ids = [rule.id for rule in ruleset.rules]
    if len(ids) != len(set(ids)):
        raise RulesError("rules.toml: rule ids must be unique")
    catch_alls = [rule.id for rule in ruleset.rules if not rule.when]
    if catch_alls != [ids[-1]]:
        raise RulesError("rules.toml: exactly one catch-all rule (no `when`), and last")
    missing = set(Destination) - set(ruleset.contacts)
    if missing:
        raise RulesError(f"rules.toml: no contact for {sorted(missing)}")
    try:  # an unknown country or holiday category would otherwise fail the first phone check
        holidays.country_holidays(
            ruleset.phone.holiday_country, categories=ruleset.phone.holiday_categories
        )
    except (NotImplementedError, ValueError) as exc:
        raise RulesError(f"rules.toml: [phone] holidays: {exc}") from exc
    for rule in ruleset.rules:
        if rule.deadline and rule.deadline.name not in ruleset.deadlines:
            raise RulesError(f"rules.toml: rule {rule.id}: unknown deadline")
