"""Test data from small functions with keyword overrides."""

import io
import json
import uuid
from typing import Any

from PIL import Image
from sqlmodel.ext.asyncio.session import AsyncSession

from subscriptions import lookup
from subscriptions.models import PermissionGrant, Subscription, User


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


STOCKHOLM = {"kind": "kommun", "code": "0180"}
GOTEBORG = {"kind": "kommun", "code": "1480"}
DYGN = "dygnsschablon-ensamkommande"
FAST = "fast-arlig-ensamkommande"
MASSFLYKT = "schablon-fordelningstal-massflykt"


def event_body(event_type: str = "payment.disbursed", **overrides: Any) -> dict[str, Any]:
    """A valid schema v1 event; parts the type does not need are left out."""
    body: dict[str, Any] = {
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "occurred_at": "2026-11-26T10:15:00+01:00",
        "organisation": STOCKHOLM,
        "compensation_type": DYGN,
        "case": {"diarienummer": "1.1.3-2026-123456", "case_officer": "Anna Berg"},
        "person": {"name": "Ali Hassan"},
    }
    if event_type.startswith("payment."):
        body["payment"] = {"amount_sek": "12345.50", "paid_on": "2026-11-25"}
    if event_type == "application.decided":
        body["decision"] = {"outcome": "partially_approved"}
    if event_type == "service.announcement":
        for part in ("case", "person", "compensation_type"):
            body.pop(part)
        body["announcement"] = {
            "title": "Försenade schabloner för juni och juli",
            "body": "Ett fel stoppade vissa schabloner.\n\nPengarna betalas ut sista "
            "bankdagen i september.",
            "compensation_types": [],
        }
    return body | overrides


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


async def add_user(
    session: AsyncSession,
    user_id: str,
    *,
    org: dict[str, str] = STOCKHOLM,
    grants: dict[str, str] | None = None,
    subscribed: tuple[str, ...] = ("payment.disbursed",),
    enabled: bool = True,
) -> None:
    session.add(
        User(
            id=user_id,
            email=f"{user_id}@kommun.example.se",
            name=f"Användare {user_id}",
            org_kind=org["kind"],
            org_code=org["code"],
        )
    )
    await session.flush()  # grants and subscriptions refer to the user
    for ctype, level in (grants or {}).items():
        session.add(PermissionGrant(user_id=user_id, compensation_type=ctype, level=level))
    for event_type in subscribed:
        session.add(Subscription(user_id=user_id, event_type=event_type, enabled=enabled))
    # Rows written past the store keep the recipient lookup as the store would.
    await session.flush()
    await lookup.refresh(session=session, user_ids=[user_id])


def tiny_image(kind: str = "PNG") -> bytes:
    """A real 4×4 image in `kind` (PNG, JPEG): uploads are decoded."""
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 90, 160)).save(out, format=kind)
    return out.getvalue()


def bulk_line(user_id: str, **overrides: Any) -> dict[str, Any]:
    """One line of POST /api/v1/users/bulk: a user, their grants and subscriptions."""
    line: dict[str, Any] = {
        "id": user_id,
        **user_body(),
        **permissions_body(),
        "subscriptions": subscriptions_body(),
    }
    return line | overrides
