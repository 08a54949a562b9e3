"""`explain` and `matching.recipients` are two readings of one rule: for any user and any
event, every check passes exactly when the user is a recipient (hypothesis)."""

from hypothesis import given
from hypothesis import strategies as st

from domain.compensation import ANNOUNCEMENT, COMPENSATION_TYPES, EVENT_TYPES, PermissionLevel
from subscriptions.explain import UserState, explain
from subscriptions.matching import Candidate, Target, recipients

ORGANISATIONS = [("kommun", "0180"), ("kommun", "1480"), ("region", "01")]
TYPES = sorted(COMPENSATION_TYPES)[:4]  # a few, so that grants and events often meet

grants = st.dictionaries(st.sampled_from(TYPES), st.sampled_from(PermissionLevel), max_size=3)
subscriptions = st.dictionaries(st.sampled_from(sorted(EVENT_TYPES)), st.booleans(), max_size=4)
users = st.builds(
    UserState,
    organisation=st.sampled_from(ORGANISATIONS),
    subscriptions=subscriptions,
    grants=grants,
)


@st.composite
def targets(draw: st.DrawFn) -> Target:
    event_type = draw(st.sampled_from(sorted(EVENT_TYPES)))
    if event_type == ANNOUNCEMENT:
        return Target(
            event_type=event_type,
            organisation=draw(st.none() | st.sampled_from(ORGANISATIONS)),
            announcement_types=tuple(draw(st.lists(st.sampled_from(TYPES), max_size=2))),
        )
    return Target(
        event_type=event_type,
        organisation=draw(st.sampled_from(ORGANISATIONS)),
        compensation_type=draw(st.none() | st.sampled_from(TYPES)),
    )


def candidate(user: UserState) -> Candidate:
    return Candidate(
        user_id="u",
        email="u@kommun.example.se",
        name="U",
        organisation=user.organisation,
        subscribed={event for event, enabled in user.subscriptions.items() if enabled},
        grants=dict(user.grants),
    )


@given(target=targets(), user=users)
def test_every_check_passes_exactly_when_the_user_is_a_recipient(
    target: Target, user: UserState
) -> None:
    checks = explain(target, user)
    found = recipients(target, [candidate(user)])
    assert all(check.passed for check in checks) == bool(found), checks
