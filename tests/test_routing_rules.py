"""rules.toml: the rules in their order, a version that follows the content, and a bad
edit refused at load."""

import hashlib
from importlib.resources import files

import pytest

from routing.decision.rules import RulesError, default_rules, parse_rules
from routing.decision.schemas import Destination

SHIPPED = files("routing.decision").joinpath("rules.toml").read_bytes()


def test_the_shipped_rules_in_order_with_the_catch_all_last() -> None:
    assert [rule.id for rule in default_rules().rules] == [
        "browser-ie",
        "login-step1-kommun",
        "login-step1-region",
        "login-step2-netid",
        "login-step2",
        "permissions",
        "compensation-sen",
        "compensation-sea",
        "eservice-general",
        "not-eservice",
        "education-periods",
        "notifications",
        "getting-started",
        "fallback",
    ]


def test_the_version_is_a_hash_of_the_file() -> None:
    assert default_rules().version == hashlib.sha256(SHIPPED).hexdigest()[:16]
    assert parse_rules(SHIPPED + b"\n# edited\n").version != default_rules().version


def test_every_destination_has_a_contact_and_the_real_addresses_are_shown() -> None:
    contacts = default_rules().contacts
    assert set(contacts) == set(Destination)
    assert contacts[Destination.SEA].email == "e-tjanst-statligersattning@migrationsverket.se"
    assert contacts[Destination.SEN].phone == "010-485 55 84"
    assert "Box 1087, 405 23 Göteborg" in (contacts[Destination.SEA].postal_address or "")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('primary = "sea"', 'primary = "nowhere"'), "nowhere"),
        (('unit = "sen"', 'colour = "sen"'), "unknown condition 'colour'"),
        (('organisation_kind = "kommun"', 'organisation_kind = "county"'), "county"),
        (('id = "permissions"', 'id = "browser-ie"'), "unique"),
        (("last_day = 2024-01-31", "last_day = 2024-01-31\n[deadlines.x]"), "last_day"),
        (('id = "fallback"', 'id = "fallback"\nwhen = [{ issue_type = "login" }]'), "catch-all"),
        (('"de_facto"]', '"de_facto", "lunar"]'), "holidays"),
        (('holiday_country = "SE"', 'holiday_country = "XX"'), "holidays"),
        (('timezone = "Europe/Stockholm"', 'timezone = "Europe/Gothenburg"'), "Gothenburg"),
    ],
)
def test_a_bad_edit_fails_at_load(edit: tuple[str, str], message: str) -> None:
    old, new = edit
    content = SHIPPED.decode().replace(old, new, 1).encode()
    with pytest.raises(RulesError, match=message):
        parse_rules(content)
