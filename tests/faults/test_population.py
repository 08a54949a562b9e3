"""The fault suite's own yardstick: the expected emails follow the permission model."""

import pytest

from tests.faults import population as p


def _event(event_type: str, ctype: str, org: tuple[str, str], everybody: bool = False) -> dict:
    kind, code = org
    return p._event("e1", event_type, ctype, {"kind": kind, "code": code}, everybody)


STOCKHOLM = ("kommun", "0180")
EVERY_ANNOUNCEMENT_READER = {
    f"{shape}-{kind}-{code}" for shape in ("full", "nogrant") for kind, code in p.ALL_ORGS
}


@pytest.mark.parametrize(
    ("event", "who"),
    [
        # Full and summary grants both get it; another type's grant, subscriptions turned
        # off, and other organisations do not.
        (_event(p.PAID, p.DYGN, STOCKHOLM), {"full-kommun-0180", "summary-kommun-0180"}),
        (_event(p.PAID, p.FAST, STOCKHOLM), {"full-kommun-0180", "partial-kommun-0180"}),
        (_event(p.DECIDED, p.MASSFLYKT, STOCKHOLM), {"nogrant-kommun-0180"}),
        # An announcement for a type: subscribers holding that grant.
        (_event(p.ANNOUNCEMENT, p.FAST, STOCKHOLM), {"full-kommun-0180"}),
        # To everybody: every announcement subscriber of every organisation.
        (_event(p.ANNOUNCEMENT, p.FAST, STOCKHOLM, everybody=True), EVERY_ANNOUNCEMENT_READER),
    ],
)
def test_expected_emails_follow_the_permission_model(event: dict, who: set[str]) -> None:
    assert p.expected_emails(p.users(), [event]) == {("e1", user) for user in who}


def test_the_published_events_are_many_and_reach_all_kinds_of_users() -> None:
    events = p.events(2000)
    expected = p.expected_emails(p.users(), events)
    reached = {user for _, user in expected}
    assert len(events) == len({e["event_id"] for e in events}) == 2000
    assert len(expected) > 3000
    assert not any(u.startswith("unsubscribed") for u in reached)
    assert "full-kommun-0580" in reached  # only through announcements to everybody
    assert "summary-kommun-0580" not in reached
