"""`notifier publish-sample`: a realistic handful of events, and the users to receive them,
so that a new user sees emails appear in ./var/mail/ within seconds of `make run`."""

import json
import uuid
from datetime import date, timedelta
from typing import Any

import aio_pika
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import EVENT_TYPES
from domain.sqltypes import utcnow
from notifier.workers.broker import Topology, connect_once, declare
from subscriptions import store
from subscriptions.schemas import PermissionsIn, SubscriptionsIn, UserIn

STOCKHOLM = {"kind": "kommun", "code": "0180"}
DYGN = "dygnsschablon-ensamkommande"
MASSFLYKT = "schablon-fordelningstal-massflykt"

# A case officer with every detail, and a colleague who may not see who a case concerns.
SAMPLE_USERS: dict[str, dict[str, Any]] = {
    "sample-anna": {
        "user": {"email": "anna.exempel@example.com", "name": "Anna Exempel"},
        "grants": {DYGN: "full", MASSFLYKT: "full"},
    },
    "sample-erik": {
        "user": {"email": "erik.exempel@example.com", "name": "Erik Exempel"},
        "grants": {DYGN: "summary"},
    },
}


async def ensure_sample_users(session: AsyncSession) -> None:
    """Create or refresh the sample users, subscribed to every event type."""
    for user_id, sample in SAMPLE_USERS.items():
        user = UserIn.model_validate(sample["user"] | {"organisation": STOCKHOLM})
        await store.put_user(session=session, user_id=user_id, user_in=user)
        await store.put_permissions(
            session=session,
            user_id=user_id,
            permissions=PermissionsIn.model_validate({"grants": sample["grants"]}),
        )
        await store.put_subscriptions(
            session=session,
            user_id=user_id,
            subscriptions=SubscriptionsIn(enabled=True, event_types=list(EVENT_TYPES)),
        )


def sample_events() -> list[dict[str, Any]]:
    """One event of each type, as the e-service would publish them today."""
    now = utcnow()
    case = {"diarienummer": f"1.1.3-{now.year}-{now.microsecond:06d}", "case_officer": "Lena Ek"}
    common = {
        "schema_version": 1,
        "occurred_at": now.isoformat(),
        "organisation": STOCKHOLM,
        "compensation_type": DYGN,
        "case": case,
        "person": {"name": "Ali Hassan"},
    }
    paid = {"amount_sek": "12345.50", "paid_on": (date.today() - timedelta(days=1)).isoformat()}
    parts: dict[str, dict[str, Any]] = {
        "application.decided": {"decision": {"outcome": "partially_approved"}},
        "payment.disbursed": {"payment": paid},
        "payment.automatic": {"payment": paid | {"amount_sek": "48200.00"}},
    }
    events = [
        common | parts.get(event_type, {}) | {"event_type": event_type}
        for event_type in EVENT_TYPES
        if event_type != "service.announcement"
    ]
    events.append(_announcement(now.isoformat()))
    return [event | {"event_id": str(uuid.uuid4())} for event in events]


def _announcement(occurred_at: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "event_type": "service.announcement",
        "occurred_at": occurred_at,
        "organisation": STOCKHOLM,
        "announcement": {
            "title": "Försenade schabloner för juni och juli",
            "body": "Ett fel gjorde att vissa schabloner enligt massflyktsdirektivet inte "
            "betalades ut för juni och juli.\n\nDe pengar som saknas betalas ut sista "
            "bankdagen i september.",
            "compensation_types": [MASSFLYKT],
        },
    }


async def publish(url: str, topology: Topology, events: list[dict[str, Any]]) -> None:
    connection = await connect_once(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        # Declaring first: the events wait in our queue even if no consumer ran yet.
        declared = await declare(channel, topology)
        for event in events:
            message = aio_pika.Message(
                json.dumps(event, ensure_ascii=False).encode(),
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=event["event_id"],
            )
            await declared.exchange.publish(message, routing_key=event["event_type"])
