"""Who gets what: the pure matching rules, table-driven, no I/O."""

import pytest

from domain.compensation import ANNOUNCEMENT, PermissionLevel
from subscriptions.matching import (
    Candidate,
    Key,
    Pools,
    Recipient,
    Row,
    Target,
    keys,
    recipients,
)

FULL, SUMMARY = PermissionLevel.FULL, PermissionLevel.SUMMARY
STHLM, GBG = ("kommun", "0180"), ("kommun", "1480")
DYGN, FAST, MASSFLYKT = (
    "dygnsschablon-ensamkommande",
    "fast-arlig-ensamkommande",
    "schablon-fordelningstal-massflykt",
)
PAID = "payment.disbursed"


def candidate(
    user_id: str = "u1",
    *,
    org: tuple[str, str] = STHLM,
    subscribed: tuple[str, ...] = (PAID,),
    grants: dict[str, PermissionLevel] | None = None,
) -> Candidate:
    return Candidate(
        user_id,
        f"{user_id}@example.se",
        user_id,
        org,
        set(subscribed),
        dict({DYGN: FULL} if grants is None else grants),
    )


PAYMENT = Target(PAID, STHLM, DYGN)


@pytest.mark.parametrize(
    ("case", "target", "who", "expected"),
    [
        ("full grant", PAYMENT, candidate(), FULL),
        ("summary grant", PAYMENT, candidate(grants={DYGN: SUMMARY}), SUMMARY),
        ("no grant for the type", PAYMENT, candidate(grants={FAST: FULL}), None),
        ("no grants at all", PAYMENT, candidate(grants={}), None),
        ("another organisation", PAYMENT, candidate(org=GBG), None),
        (
            "not subscribed to the type",
            PAYMENT,
            candidate(subscribed=("application.submitted",)),
            None,
        ),
        ("not subscribed at all", PAYMENT, candidate(subscribed=()), None),
        (
            "announcement to everyone in the org, no grant needed",
            Target(ANNOUNCEMENT, STHLM),
            candidate(subscribed=(ANNOUNCEMENT,), grants={}),
            "none-needed",
        ),
        (
            "announcement to the org, someone of another org",
            Target(ANNOUNCEMENT, STHLM),
            candidate(org=GBG, subscribed=(ANNOUNCEMENT,)),
            None,
        ),
        (
            "announcement to every org",
            Target(ANNOUNCEMENT, None),
            candidate(org=GBG, subscribed=(ANNOUNCEMENT,), grants={}),
            "none-needed",
        ),
        (
            "announcement limited to a type the user holds",
            Target(ANNOUNCEMENT, STHLM, announcement_types=(MASSFLYKT, FAST)),
            candidate(subscribed=(ANNOUNCEMENT,), grants={MASSFLYKT: SUMMARY}),
            SUMMARY,
        ),
        (
            "announcement limited: the highest grant of the named types",
            Target(ANNOUNCEMENT, STHLM, announcement_types=(MASSFLYKT, FAST)),
            candidate(subscribed=(ANNOUNCEMENT,), grants={MASSFLYKT: SUMMARY, FAST: FULL}),
            FULL,
        ),
        (
            "announcement limited to types the user lacks",
            Target(ANNOUNCEMENT, STHLM, announcement_types=(MASSFLYKT,)),
            candidate(subscribed=(ANNOUNCEMENT,), grants={DYGN: FULL}),
            None,
        ),
        (
            "announcement, subscribed only to payments",
            Target(ANNOUNCEMENT, STHLM),
            candidate(subscribed=(PAID,)),
            None,
        ),
        ("an event without compensation type", Target(PAID, STHLM, None), candidate(), None),
    ],
)
def test_recipients_follow_subscription_organisation_and_grant(
    case: str, target: Target, who: Candidate, expected: PermissionLevel | str | None
) -> None:
    found = recipients(target, [who])
    if expected is None:
        assert found == [], case
    else:
        assert [r.user_id for r in found] == [who.user_id], case
        assert found[0].level == (None if expected == "none-needed" else expected), case


def test_recipients_are_each_user_once_in_a_stable_order() -> None:
    people = [candidate("c"), candidate("a", grants={DYGN: SUMMARY}), candidate("b", org=GBG)]
    found = recipients(PAYMENT, people)
    assert [(r.user_id, r.level) for r in found] == [("a", SUMMARY), ("c", FULL)]


@pytest.mark.parametrize(
    ("case", "target", "expected"),
    [
        ("an event needs its own type's grant", PAYMENT, [(STHLM, PAID, DYGN)]),
        ("an event of every org", Target(PAID, None, DYGN), [(None, PAID, DYGN)]),
        ("an event without compensation type needs no lookup", Target(PAID, STHLM), []),
        (
            "an announcement to all needs no grant",
            Target(ANNOUNCEMENT, None),
            [(None, ANNOUNCEMENT, None)],
        ),
        (
            "an announcement naming types needs any one of them",
            Target(ANNOUNCEMENT, STHLM, announcement_types=(FAST, MASSFLYKT)),
            [(STHLM, ANNOUNCEMENT, FAST), (STHLM, ANNOUNCEMENT, MASSFLYKT)],
        ),
    ],
)
def test_each_target_looks_up_the_keys_its_rule_needs(
    case: str, target: Target, expected: list[Key]
) -> None:
    assert keys(target) == expected, case


@pytest.mark.parametrize("first", [FULL, SUMMARY])
def test_pools_give_a_target_each_user_of_its_keys_once_at_the_highest_level(
    first: PermissionLevel,
) -> None:
    other = SUMMARY if first == FULL else FULL
    pools = Pools(
        {
            (STHLM, ANNOUNCEMENT, FAST): [
                Row("b", "b@x", "b", SUMMARY.value, "daily", 1),
                _a(first),
            ],
            (STHLM, ANNOUNCEMENT, MASSFLYKT): [_a(other)],
        }
    )
    target = Target(ANNOUNCEMENT, STHLM, announcement_types=(FAST, MASSFLYKT))
    assert pools.recipients(target) == [
        Recipient("a", "a@x", "a", FULL),
        Recipient("b", "b@x", "b", SUMMARY, daily=True),
    ]


def _a(level: PermissionLevel) -> Row:
    return Row("a", "a@x", "a", level.value, "immediate", 1)
