"""Properties that hold for every input, not only the table's rows (hypothesis)."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.compensation import COMPENSATION_TYPES
from domain.organisations import organisations
from domain.swedish import NBSP, SWEDISH_TIME, kronor
from routing.decision.engine import TICKET_DESTINATIONS, needs_ticket, route
from routing.decision.rules import default_rules
from routing.decision.schemas import Inquiry, IssueType, LoginMethod, LoginStep, TargetGroup

RULES = default_rules()
USER_AGENTS = [
    None,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)",
]

inquiries = st.builds(
    Inquiry,
    issue_type=st.sampled_from(IssueType),
    organisation=st.sampled_from([{"kind": kind, "code": code} for kind, code in organisations()]),
    login_step=st.none() | st.sampled_from(LoginStep),
    login_method=st.none() | st.sampled_from(LoginMethod),
    compensation_type=st.none() | st.sampled_from(sorted(COMPENSATION_TYPES)),
    target_group=st.none() | st.sampled_from(TargetGroup),
    browser=st.sampled_from(USER_AGENTS),
)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(inquiry=inquiries, at=moments)
def test_every_inquiry_gets_a_traceable_decision_and_true_phone_hours(
    inquiry: Inquiry, at: datetime
) -> None:
    decision = route(inquiry, RULES, at)

    assert decision.rule.id in {rule.id for rule in RULES.rules}
    assert decision.rule.version == RULES.version
    assert needs_ticket(decision) == (decision.primary.destination in TICKET_DESTINATIONS)
    for contact in filter(None, [decision.primary, decision.secondary]):
        if contact.phone is None:
            assert contact.phone_open_now is None and contact.phone_opens_next is None
        elif contact.phone_open_now:
            local = at.astimezone(SWEDISH_TIME)
            assert local.isoweekday() <= 5 and time(9) <= local.time() < time(12)
            assert contact.phone_opens_next is None
        else:
            opens = contact.phone_opens_next
            assert opens is not None and at < opens <= at + timedelta(days=14)
            local = opens.astimezone(SWEDISH_TIME)
            assert local.isoweekday() <= 5 and local.time() == time(9)


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_kronor_reads_back_as_the_same_amount(amount: Decimal) -> None:
    text = kronor(amount)
    assert text.endswith(f"{NBSP}kr")
    digits = text.removesuffix(f"{NBSP}kr").replace(NBSP, "").replace(",", ".")
    assert Decimal(digits) == amount
