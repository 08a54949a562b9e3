"""The operators' console API: who may use it, every email's fate, failures and their
retry, the overview and the audit trail."""

from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from notifier import db
from notifier.outbox.models import OutboxMessage, OutboxStatus
from tests.pipeline_helpers import DYGN, FAST, add_user, event_body, outbox
from tests.test_pipeline import record
from tests.test_triage import mint

# Every console endpoint, with a body that passes validation where it needs one.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/deliveries?email=a@example.se", None),
    ("GET", "/api/v1/failures", None),
    ("POST", "/api/v1/failures/retry", {"reason": "x"}),
    ("POST", "/api/v1/failures/1/retry", None),
    ("GET", "/api/v1/dead-letters", None),
    ("POST", "/api/v1/dead-letters/replay", {"key": "x"}),
    ("POST", "/api/v1/dead-letters/discard", {"key": "x"}),
    ("GET", "/api/v1/operations/overview", None),
    ("GET", "/api/v1/operations/audit", None),
    ("GET", "/api/v1/templates", None),
    ("GET", "/api/v1/templates/digest/preview?level=summary", None),
    ("POST", "/api/v1/templates/digest/test", {"to": "test@example.se"}),
    ("GET", "/api/v1/announcements", None),
    ("POST", "/api/v1/announcements", {"title": "T", "body": "B"}),
    ("DELETE", "/api/v1/announcements/x", None),
    ("GET", "/api/v1/suppressions", None),
    ("DELETE", "/api/v1/suppressions/a@example.se", None),
]
PAGES = [
    "/drift",
    "/drift/utskick",
    "/drift/fel",
    "/drift/sparrade-adresser",
    "/drift/mallar",
    "/drift/aktuellt",
    "/drift/logg",
]


async def operator(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, str]:
    return (await mint(client, admin, name="Olle Drift", roles=["operator"]))[1]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_only_operators_and_the_admin_token_use_the_console_api(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    anonymous = await client.request(method, path, json=body)
    assert anonymous.status_code == 401
    _, desk_staff = await mint(client, admin)
    refused = await client.request(method, path, json=body, headers=desk_staff)
    assert refused.status_code == 403 and "operator" in refused.json()["detail"]
    for allowed in (admin, await operator(client, admin)):
        answer = await client.request(method, path, json=body, headers=allowed)
        assert answer.status_code not in (401, 403), answer.text


@pytest.mark.parametrize("path", PAGES)
async def test_console_pages_need_an_operators_login(
    client: httpx.AsyncClient, admin: dict[str, str], path: str
) -> None:
    from tests.test_triage import login

    anonymous = await client.get(path)
    assert anonymous.status_code == 401 and 'name="next"' in anonymous.text
    _, desk_staff = await mint(client, admin)
    await login(client, desk_staff)
    assert (await client.get(path)).status_code == 403
    await login(client, await operator(client, admin))
    assert (await client.get(path)).status_code == 200


async def people_and_an_event(engine: AsyncEngine) -> dict[str, Any]:
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "gets", grants={DYGN: "full"})
        await add_user(session, "no-grant", grants={FAST: "full"})
        await add_user(session, "unsubscribed", grants={DYGN: "full"}, enabled=False)
        await session.commit()
    body = event_body(case={"diarienummer": "1.1.3-2026-777777", "case_officer": "Lena Ek"})
    await record(engine, body)
    return body


async def test_every_emails_fate_is_found_by_address_user_case_and_event(
    client: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    body = await people_and_an_event(engine)
    searches = [
        "email=GETS@kommun.example.se",
        "user_id=gets",
        "diarienummer=1.1.3-2026-777777",
        f"event_id={body['event_id'].upper()}",
    ]
    for search in searches:
        found = (await client.get(f"/api/v1/deliveries?{search}", headers=admin)).json()
        [email] = found["deliveries"]
        assert (email["user_id"], email["status"], email["kind"]) == (
            "gets",
            "pending",
            "notification",
        )
        assert email["event_type"] == "payment.disbursed" and email["attempts"] == 0
        assert email["message_id"].startswith(f"<{body['event_id']}.")
    other = await client.get("/api/v1/deliveries?diarienummer=1.1.3-2026-000000", headers=admin)
    assert other.json()["deliveries"] == []


@pytest.mark.parametrize(
    ("user_id", "failing"), [("no-grant", "permission"), ("unsubscribed", "subscription")]
)
async def test_for_a_user_and_an_event_the_console_says_why_no_email_came(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    engine: AsyncEngine,
    user_id: str,
    failing: str,
) -> None:
    body = await people_and_an_event(engine)
    query = f"user_id={user_id}&event_id={body['event_id']}"
    found = (await client.get(f"/api/v1/deliveries?{query}", headers=admin)).json()
    assert found["deliveries"] == []
    why = found["explanation"]
    assert why["received"] and why["email"] is None
    assert [c["rule"] for c in why["checks_now"] if not c["passed"]] == [failing]


async def test_a_search_without_a_criterion_finds_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    await people_and_an_event(engine)
    answer = await client.get("/api/v1/deliveries", headers=admin)
    assert answer.json() == {"deliveries": [], "explanation": None}


async def fail(engine: AsyncEngine, user_id: str, reason: str) -> None:
    async with db.sessionmaker(engine)() as session:
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.user_id) == user_id)
            .values(status=OutboxStatus.FAILED, attempts=10, last_error=reason)
        )
        await session.commit()


async def test_failures_are_grouped_by_reason_and_retried_through_the_outbox_audited(
    client: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    async with db.sessionmaker(engine)() as session:
        for user_id in ("a", "b", "c"):
            await add_user(session, user_id, grants={DYGN: "full"})
        await session.commit()
    await record(engine, event_body())
    await fail(engine, "a", "550 5.1.1 mailbox unknown")
    await fail(engine, "b", "550 5.1.1 mailbox unknown")
    await fail(engine, "c", "554 5.7.1 rejected")
    groups = (await client.get("/api/v1/failures", headers=admin)).json()
    assert [(g["reason"], g["count"]) for g in groups] == [
        ("550 5.1.1 mailbox unknown", 2),
        ("554 5.7.1 rejected", 1),
    ]
    [one] = groups[1]["emails"]
    me = await operator(client, admin)
    retried = await client.post(f"/api/v1/failures/{one['id']}/retry", headers=me)
    assert retried.json() == {"retried": 1}
    again = await client.post(f"/api/v1/failures/{one['id']}/retry", headers=me)
    assert again.status_code == 404
    everyone = await client.post(
        "/api/v1/failures/retry", json={"reason": "550 5.1.1 mailbox unknown"}, headers=admin
    )
    assert everyone.json() == {"retried": 2}
    rows = await outbox(engine)
    assert {(r.status, r.attempts) for r in rows} == {(OutboxStatus.PENDING, 0)}
    trail = (await client.get("/api/v1/operations/audit", headers=admin)).json()
    assert [(e["actor"], e["action"], e["detail"]["count"]) for e in trail] == [
        ("admin", "failures.retry", 2),
        ("staff:Olle Drift", "failures.retry", 1),
    ]


async def test_the_overview_counts_what_waits_and_what_went(
    client: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    await people_and_an_event(engine)
    figures = (await client.get("/api/v1/operations/overview", headers=admin)).json()
    assert figures["pending"] == 1 and figures["oldest_pending_seconds"] >= 0
    assert figures["suppressed"] == 0
    assert figures["consumer_last_active"] is not None and figures["sender_last_active"] is None
    async with db.sessionmaker(engine)() as session:
        [row] = (await session.exec(select(OutboxMessage))).all()
        assert row.status == OutboxStatus.PENDING
