"""Suppressions (subscriptions.suppressions) on both databases: lifted when no user has the
address any more (PUT or bulk), kept for a shared mailbox, screened at send time except
for the exempt kinds, and purged once lifted longer than the retention period."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from domain.sqltypes import utcnow
from notifier.compose import Services
from notifier.outbox.models import Claimed, OutboxKind, OutboxMessage
from notifier.outbox.suppressed import screen
from notifier.workers import retention
from subscriptions import suppressions
from subscriptions.suppressions import BounceRecord, Lifted, Suppression
from tests.factories import bulk_line, user_body
from tests.test_bulk_users import BULK, NDJSON, ndjson

OLD = "gammal@kommun.example.se"


async def suppress(services: Services, email: str = OLD, **changes: Any) -> None:
    async with services.sessions() as session:
        found = await suppressions.record_bounce(
            session=session,
            email=email,
            hard=True,
            status="5.1.1",
            diagnostic="550 5.1.1 User unknown",
            outbox_id=None,
            soft_limit=5,
            soft_window=timedelta(days=14),
            now=utcnow(),
        )
        assert found is not None
        for name, value in changes.items():
            setattr(found, name, value)
        await session.commit()


async def live(services: Services) -> list[str]:
    async with services.sessions() as session:
        return sorted(await suppressions.active(session=session, emails=[OLD, OLD.upper()]))


async def put(client: httpx.AsyncClient, admin: dict[str, str], user: str, email: str) -> Any:
    answer = await client.put(f"/api/v1/users/{user}", json=user_body(email=email), headers=admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_shared_mailbox_stays_suppressed_until_its_last_user_moves(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services
) -> None:
    await put(client, admin, "u-1", OLD)
    await put(client, admin, "u-2", OLD.upper())
    await suppress(services)
    assert (await put(client, admin, "u-1", OLD))["email_status"]["state"] == "suppressed"
    assert (await put(client, admin, "u-2", OLD))["email_status"]["state"] == "suppressed"
    assert (await put(client, admin, "u-1", "ny1@kommun.example.se"))["email_status"] == {
        "state": "ok", "since": None, "reason": None, "status": None, "diagnostic": None
    }  # fmt: skip
    assert await live(services) == [OLD]  # u-2 still has it
    await put(client, admin, "u-2", "ny2@kommun.example.se")
    assert await live(services) == []
    async with services.sessions() as session:
        [lifted] = (await session.exec(select(Suppression))).all()
    assert lifted.lifted_by == Lifted.ADDRESS_CHANGED


async def test_a_bulk_load_with_a_new_address_lifts_and_a_reconcile_does_not(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services
) -> None:
    async def load(email: str) -> None:
        line = bulk_line("u-1", email=email)
        answer = await client.post(BULK, content=ndjson(line), headers=admin | NDJSON)
        assert answer.status_code == 200, answer.text

    await load(OLD)
    await suppress(services)
    await load(OLD.title())  # the same address, as the nightly reconcile sends it
    assert await live(services) == [OLD]
    await load("ny@kommun.example.se")
    assert await live(services) == []


def claimed(kind: str, recipient: str = OLD, channel: str = "email") -> Claimed:
    row = OutboxMessage(
        id=1, message_id=f"m.{kind}", kind=kind, channel=channel, recipient=recipient
    )
    fields = Claimed.__dataclass_fields__
    return Claimed(**{name: getattr(row, name) for name in fields})


@pytest.mark.parametrize(
    ("row", "status"),
    [
        (claimed(OutboxKind.NOTIFICATION, OLD.upper()), "suppressed"),
        (claimed(OutboxKind.DIGEST), "suppressed"),
        (claimed(OutboxKind.TICKET_ANSWER), "pending"),  # they asked us, just now
        (claimed(OutboxKind.TICKET), "pending"),  # to Migrationsverket's own mailboxes
        (claimed(OutboxKind.NOTIFICATION, "annan@kommun.example.se"), "pending"),
        (claimed(OutboxKind.UNDELIVERABLE, "email.undeliverable", "amqp"), "pending"),
    ],
)
async def test_the_sender_screens_rows_to_a_suppressed_address_by_kind(
    services: Services, row: Claimed, status: str
) -> None:
    await suppress(services)
    async with services.sessions() as session:
        await screen(session, [row])
    assert row.status == status
    if status == "suppressed":
        assert row.last_error is not None
        assert "after a hard bounce with status 5.1.1: 550 5.1.1 User unknown" in row.last_error


async def test_retention_purges_lifted_suppressions_and_old_bounces_only(
    services: Services,
) -> None:
    long_ago = utcnow() - timedelta(days=200)
    await suppress(services, "lyft@kommun.example.se", lifted_at=long_ago, lifted_by="operator")
    await suppress(services, "nyss@kommun.example.se", lifted_at=utcnow(), lifted_by="operator")
    await suppress(services, OLD, since=long_ago)  # live: kept however old
    async with services.sessions() as session:
        for bounce in (await session.exec(select(BounceRecord))).all():
            bounce.received_at = long_ago
        session.add(BounceRecord(email=OLD, hard=False, status="4.2.2"))
        await session.commit()
    purged = await retention.purge(services.sessions, older_than=timedelta(days=90), now=utcnow())
    assert purged.suppressions == 4  # one lifted suppression, three old bounces
    async with services.sessions() as session:
        left = sorted(s.email for s in (await session.exec(select(Suppression))).all())
        bounces = (await session.exec(select(BounceRecord))).all()
    assert left == [OLD, "nyss@kommun.example.se"]
    assert [b.status for b in bounces] == ["4.2.2"]
