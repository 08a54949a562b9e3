"""The fields an issue type or a ticket needs, each with its own message."""

from typing import Any

import pytest
from pydantic import ValidationError

from routing.decision.checks import missing_for_route, missing_for_ticket
from routing.decision.schemas import Inquiry, LoginStep

KOMMUN = {"kind": "kommun", "code": "0180"}


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"issue_type": "login"}, {"organisation", "login_step"}),
        ({"issue_type": "login", "organisation": KOMMUN}, {"login_step"}),
        ({"issue_type": "login", "login_step": 2}, {"organisation"}),
        ({"issue_type": "login", "login_step": 1, "organisation": KOMMUN}, set()),
        ({"issue_type": "compensation"}, {"compensation_type"}),
        ({"issue_type": "compensation", "target_group": "nyanlanda"}, set()),
        ({"issue_type": "permissions"}, set()),
        ({"issue_type": "not_eservice"}, set()),
    ],
)
def test_fields_the_issue_type_needs(body: dict[str, Any], missing: set[str]) -> None:
    assert set(missing_for_route(Inquiry.model_validate(body))) == missing


def test_a_ticket_needs_someone_to_answer() -> None:
    inquiry = Inquiry(issue_type="permissions", email="a@b.se")  # type: ignore[arg-type]
    assert set(missing_for_ticket(inquiry)) == {"organisation", "name", "message"}


@pytest.mark.parametrize("step", [1, "1", 2, "2"])
def test_login_step_as_number_or_string(step: int | str) -> None:
    inquiry = Inquiry.model_validate({"issue_type": "login", "login_step": step})
    assert inquiry.login_step == LoginStep(str(step))


@pytest.mark.parametrize(
    "body",
    [
        {"issue_type": "login", "login_step": 3},
        {"issue_type": "login", "login_step": True},
        {"issue_type": "login", "login_method": "bankid"},
        {"issue_type": "compensation", "compensation_type": "okand-ersattning"},
        {"issue_type": "login", "organisation": {"kind": "kommun", "code": "0000"}},
        {"issue_type": "weather"},
    ],
)
def test_unknown_values_are_invalid(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Inquiry.model_validate(body)
