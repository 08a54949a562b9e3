"""Test data from small functions with keyword overrides."""

import io
from typing import Any

from PIL import Image


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


def tiny_image(kind: str = "PNG") -> bytes:
    """A real 4×4 image in `kind` (PNG, JPEG): uploads are decoded."""
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 90, 160)).save(out, format=kind)
    return out.getvalue()
