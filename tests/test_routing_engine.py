"""route(): one case per row of DOMAIN.md's routing table, for kommun and region, at fixed
moments before and after 31 January 2024, with the phone open and closed."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from routing.decision.engine import needs_ticket, route
from routing.decision.rules import default_rules
from routing.decision.schemas import Inquiry

SE = ZoneInfo("Europe/Stockholm")
RULES = default_rules()
ORGS = {"kommun": {"kind": "kommun", "code": "0180"}, "region": {"kind": "region", "code": "14"}}
IE11 = "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko"
IE8 = "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
DIARIE = ["diarienummer", "case_officer"]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SE)  # type: ignore[misc]


# (label, phone open?) for every moment the table is checked at.
MOMENTS = {
    "weekday-open-before-netid-end": (at(2024, 1, 31, 10, 0), True),
    "weekday-open-after-netid-end": (at(2024, 2, 1, 9, 0), True),
    "weekday-before-opening": (at(2024, 1, 8, 8, 59), False),
    "weekday-at-closing": (at(2024, 2, 2, 12, 0), False),
    "saturday": (at(2024, 2, 3, 10, 0), False),
    "may-day-holiday": (at(2024, 5, 1, 10, 0), False),
}

# One row per row of DOMAIN.md: the inquiry, then per organisation kind the rule id,
# primary, secondary and requirements.
ROWS: list[tuple[str, dict[str, Any], dict[str, tuple[str, str, str | None, list[str]]]]] = [
    (
        "login step 1",
        {"issue_type": "login", "login_step": "1"},
        {
            "kommun": ("login-step1-kommun", "mv_kontaktcenter_kommun", None, ["screenshot"]),
            "region": ("login-step1-region", "mv_kontaktcenter_region", None, ["screenshot"]),
        },
    ),
    (
        "login step 2, SITHS eID",
        {"issue_type": "login", "login_step": "2", "login_method": "siths_eid_other_device"},
        dict.fromkeys(ORGS, ("login-step2", "local_it", "inera", [])),
    ),
    (
        "login step 2, the old card with Net iD",
        {"issue_type": "login", "login_step": "2", "login_method": "siths_card_netid"},
        dict.fromkeys(ORGS, ("login-step2-netid", "local_it", "inera", [])),
    ),
    (
        "sees the case but not the person",
        {"issue_type": "permissions"},
        dict.fromkeys(ORGS, ("permissions", "local_admin", None, [])),
    ),
    (
        "internet explorer",
        {"issue_type": "browser", "browser": IE11},
        dict.fromkeys(ORGS, ("browser-ie", "self_service", None, [])),
    ),
    (
        "compensation for asylum seekers",
        {"issue_type": "compensation", "compensation_type": "dygnsschablon-ensamkommande"},
        dict.fromkeys(ORGS, ("compensation-sea", "sea", None, DIARIE)),
    ),
    (
        "compensation for the newly arrived",
        {"issue_type": "compensation", "target_group": "nyanlanda"},
        dict.fromkeys(ORGS, ("compensation-sen", "sen", None, DIARIE)),
    ),
    (
        "general question or technical support",
        {"issue_type": "eservice_general"},
        dict.fromkeys(ORGS, ("eservice-general", "local_admin", "mv_kontaktcenter_kommun", [])),
    ),
    (
        "not about the e-service",
        {"issue_type": "not_eservice"},
        dict.fromkeys(ORGS, ("not-eservice", "self_service", None, [])),
    ),
    (
        "four-week periods for education costs",
        {"issue_type": "education_periods"},
        dict.fromkeys(ORGS, ("education-periods", "self_service", "sea", [])),
    ),
    (
        "email notifications",
        {"issue_type": "notifications"},
        dict.fromkeys(ORGS, ("notifications", "self_service", None, [])),
    ),
    (
        "learning the e-service",
        {"issue_type": "getting_started"},
        dict.fromkeys(ORGS, ("getting-started", "self_service", None, [])),
    ),
]

CASES = [
    pytest.param(body, kind, expected[kind], moment, id=f"{label}-{kind}-{moment}")
    for label, body, expected in ROWS
    for kind in ORGS
    for moment in MOMENTS
]


def inquiry(**fields: Any) -> Inquiry:
    return Inquiry.model_validate(fields)


@pytest.mark.parametrize(("body", "kind", "expected", "moment"), CASES)
def test_every_row_routes_the_same_at_every_moment(
    body: dict[str, Any],
    kind: str,
    expected: tuple[str, str, str | None, list[str]],
    moment: str,
) -> None:
    rule_id, primary, secondary, requires = expected
    now, phone_open = MOMENTS[moment]

    decision = route(inquiry(**body, organisation=ORGS[kind]), RULES, now)

    assert decision.rule.id == rule_id
    assert decision.rule.version == RULES.version
    assert decision.primary.destination == primary
    assert (decision.secondary and decision.secondary.destination) == secondary
    assert decision.requires == requires
    if decision.primary.phone:
        assert decision.primary.phone_open_now is phone_open


@pytest.mark.parametrize(
    ("now", "ended"),
    [
        (at(2024, 1, 30, 12, 0), False),
        (at(2024, 1, 31, 23, 59), False),
        (at(2024, 2, 1, 0, 0), True),
        (at(2026, 11, 27, 10, 0), True),
    ],
)
def test_netid_advice_says_the_method_ends_then_that_it_has_ended(
    now: datetime, ended: bool
) -> None:
    body = {"issue_type": "login", "login_step": 2, "login_method": "siths_card_netid"}
    decision = route(inquiry(**body, organisation=ORGS["kommun"]), RULES, now)

    text = " ".join(decision.advice)
    assert ("upphörde" in text) is ended
    assert ("upphör efter den 31 januari 2024" in text) is not ended
    assert ("Inera gav support" if ended else "Inera ger support") in text


def test_netid_advice_follows_swedish_time_not_utc() -> None:
    # 23:30 UTC on 31 January is already 1 February in Stockholm.
    utc = datetime.fromisoformat("2024-01-31T23:30:00+00:00")
    body = {"issue_type": "login", "login_step": "2", "login_method": "siths_card_netid"}
    assert "upphörde" in " ".join(route(inquiry(**body), RULES, utc).advice)


@pytest.mark.parametrize(
    ("now", "open_now", "opens_next"),
    [
        (at(2024, 1, 8, 9, 0), True, None),
        (at(2024, 1, 8, 11, 59), True, None),
        (at(2024, 1, 8, 8, 59), False, at(2024, 1, 8, 9, 0)),
        (at(2024, 1, 8, 12, 0), False, at(2024, 1, 9, 9, 0)),
        (at(2024, 2, 2, 13, 0), False, at(2024, 2, 5, 9, 0)),  # Friday afternoon
        (at(2024, 2, 4, 10, 0), False, at(2024, 2, 5, 9, 0)),  # Sunday
        (at(2024, 5, 1, 10, 0), False, at(2024, 5, 2, 9, 0)),  # Första maj
        (at(2024, 3, 28, 12, 30), False, at(2024, 4, 2, 9, 0)),  # Easter
        (at(2024, 6, 21, 10, 0), False, at(2024, 6, 24, 9, 0)),  # Midsommarafton
        (at(2024, 12, 23, 13, 0), False, at(2024, 12, 27, 9, 0)),  # Christmas
        (at(2024, 10, 25, 12, 0), False, at(2024, 10, 28, 9, 0)),  # over the DST change
        (datetime.fromisoformat("2024-01-08T08:30:00+00:00"), True, None),  # 09.30 in Sweden
    ],
)
@pytest.mark.parametrize("target_group", ["asylsokande", "nyanlanda"])
def test_phone_lines_say_whether_open_and_when_they_open_next(
    now: datetime, open_now: bool, opens_next: datetime | None, target_group: str
) -> None:
    decision = route(inquiry(issue_type="compensation", target_group=target_group), RULES, now)

    assert decision.primary.phone_open_now is open_now
    assert decision.primary.phone_opens_next == opens_next
    if opens_next is not None:
        assert decision.primary.phone_opens_next.utcoffset() == opens_next.utcoffset()  # type: ignore[union-attr]


def test_the_moment_asked_wins_over_now() -> None:
    asked = at(2024, 1, 8, 10, 0)
    body = inquiry(issue_type="compensation", target_group="asylsokande", asked_at=asked)
    assert route(body, RULES, at(2024, 1, 6, 10, 0)).primary.phone_open_now is True


def test_contacts_without_a_phone_say_nothing_about_opening_hours() -> None:
    decision = route(inquiry(issue_type="permissions"), RULES, at(2024, 1, 8, 10, 0))
    assert decision.primary.phone_open_now is None
    assert decision.primary.phone_opens_next is None


@pytest.mark.parametrize(
    ("fields", "rule_id"),
    [
        ({"compensation_type": "fast-arlig-ensamkommande"}, "compensation-sea"),
        ({"compensation_type": "ordnat-boende-massflykt"}, "compensation-sea"),
        ({"target_group": "asylsokande"}, "compensation-sea"),
        ({"target_group": "nyanlanda"}, "compensation-sen"),
        # The type names its unit; the group only decides when no type is named.
        (
            {"compensation_type": "schablon-anvisade-barn", "target_group": "nyanlanda"},
            "compensation-sea",
        ),
    ],
)
def test_compensation_goes_to_the_unit_of_its_type_or_target_group(
    fields: dict[str, str], rule_id: str
) -> None:
    decision = route(inquiry(issue_type="compensation", **fields), RULES, at(2024, 1, 8, 10))
    assert decision.rule.id == rule_id
    assert decision.primary.email in {
        "e-tjanst-statligersattning@migrationsverket.se",
        "statsbidragsfunktionen@migrationsverket.se",
    }


@pytest.mark.parametrize(
    ("body", "rule_id"),
    [
        ({"issue_type": "login", "login_step": "1", "browser": IE11}, "browser-ie"),
        ({"issue_type": "login", "login_step": "1", "browser": IE8}, "browser-ie"),
        ({"issue_type": "eservice_general", "browser": IE11}, "browser-ie"),
        ({"issue_type": "browser", "browser": FIREFOX}, "browser-ie"),
        ({"issue_type": "browser"}, "browser-ie"),
        ({"issue_type": "login", "login_step": "1", "browser": FIREFOX}, "login-step1-kommun"),
    ],
)
def test_internet_explorer_is_recognised_from_the_user_agent(
    body: dict[str, Any], rule_id: str
) -> None:
    decision = route(inquiry(**body, organisation=ORGS["kommun"]), RULES, at(2024, 1, 8, 10))
    assert decision.rule.id == rule_id


def test_other_questions_from_internet_explorer_keep_their_route_and_get_the_advice() -> None:
    body = inquiry(issue_type="compensation", target_group="nyanlanda", browser=IE11)
    decision = route(body, RULES, at(2024, 1, 8, 10))
    assert decision.rule.id == "compensation-sen"
    assert RULES.browser_advice in decision.advice


def test_a_login_question_without_a_step_falls_through_to_the_catch_all() -> None:
    decision = route(inquiry(issue_type="login"), RULES, at(2024, 1, 8, 10))
    assert (decision.rule.id, decision.primary.destination) == ("fallback", "local_admin")


@pytest.mark.parametrize(
    ("destination", "ticket"),
    [
        ("sea", True),
        ("sen", True),
        ("mv_kontaktcenter_kommun", True),
        ("mv_kontaktcenter_region", True),
        ("inera", False),
        ("local_it", False),
        ("local_admin", False),
        ("self_service", False),
    ],
)
def test_only_migrationsverkets_routes_need_a_ticket(destination: str, ticket: bool) -> None:
    decision = route(inquiry(issue_type="permissions"), RULES, at(2024, 1, 8, 10))
    decision.primary.destination = destination  # type: ignore[assignment]
    assert needs_ticket(decision) is ticket


def test_route_refuses_a_naive_moment() -> None:
    with pytest.raises(ValueError, match="aware"):
        route(inquiry(issue_type="permissions"), RULES, datetime(2024, 1, 8, 10))
