"""Test data from small functions with keyword overrides."""

from typing import Any


def user_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": "anna.berg@stockholm.se",
        "name": "Anna Berg",
        "organisation": {"kind": "kommun", "code": "0180"},
    }
    return body | overrides


def permissions_body(**grants: str) -> dict[str, Any]:
    return {"grants": grants or {"dygnsschablon-ensamkommande": "full"}}


def subscriptions_body(*event_types: str, enabled: bool = True) -> dict[str, Any]:
    return {"enabled": enabled, "event_types": list(event_types) or ["payment.disbursed"]}


def bulk_line(user_id: str, **overrides: Any) -> dict[str, Any]:
    """One line of POST /api/v1/users/bulk: a user, their grants and subscriptions."""
    line: dict[str, Any] = {
        "id": user_id,
        **user_body(),
        **permissions_body(),
        "subscriptions": subscriptions_body(),
    }
    return line | overrides
