"""Why a user did or did not get an email: the admin API's explanation, built from what
was recorded and from the rules as they stand now."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from domain.compensation import PermissionLevel
from notifier import cli, db
from notifier.outbox.events import Event
from notifier.outbox.models import OutboxMessage, OutboxStatus
from notifier.outbox.record import target
from subscriptions.explain import UserState, explain
from tests.pipeline_helpers import DYGN, FAST, GOTEBORG, add_user, event_body
from tests.test_pipeline import record

STOCKHOLM = ("kommun", "0180")


def state(**overrides: Any) -> UserState:
    base: dict[str, Any] = {
        "organisation": STOCKHOLM,
        "subscriptions": {"payment.disbursed": True},
        "grants": {DYGN: PermissionLevel.FULL},
    }
    return UserState(**(base | overrides))


@pytest.mark.parametrize(
    ("user", "failing"),
    [
        (state(), []),
        (state(organisation=("kommun", "1480")), ["organisation"]),
        (state(subscriptions={}), ["subscription"]),
        (state(subscriptions={"payment.disbursed": False}), ["subscription"]),
        (state(grants={FAST: PermissionLevel.FULL}), ["permission"]),
        (state(organisation=("region", "01"), grants={}), ["organisation", "permission"]),
    ],
    ids=["gets it", "other organisation", "not subscribed", "disabled", "no grant", "two"],
)
def test_explain_names_each_rule_that_fails(user: UserState, failing: list[str]) -> None:
    checks = explain(target(Event.model_validate(event_body())), user)
    assert [c.rule for c in checks] == ["organisation", "subscription", "permission"]
    assert [c.rule for c in checks if not c.passed] == failing
    assert all(c.detail for c in checks)


def test_an_announcement_to_everyone_needs_no_grant() -> None:
    announcement = Event.model_validate(event_body("service.announcement"))
    user = state(subscriptions={"service.announcement": True}, grants={})
    assert all(c.passed for c in explain(target(announcement), user))


async def explanation(
    client: httpx.AsyncClient, admin: dict[str, str], user_id: str, event_id: str
) -> dict[str, Any]:
    path = f"/api/v1/users/{user_id}/events/{event_id}/explanation"
    response = await client.get(path, headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_api_explains_a_delivery_and_a_miss(
    client: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "gets", grants={DYGN: "full"})
        await add_user(session, "no-grant", grants={FAST: "full"})
        await add_user(session, "elsewhere", org=GOTEBORG, grants={DYGN: "full"})
        await session.commit()
    body = event_body()
    await record(engine, body)

    got = await explanation(client, admin, "gets", body["event_id"])
    assert got["received"] and got["email"]["status"] == OutboxStatus.PENDING
    assert got["email"]["level"] == "full" and "väntar" in got["summary"]
    assert all(check["passed"] for check in got["checks_now"])

    missed = await explanation(client, admin, "no-grant", body["event_id"])
    assert missed["email"] is None and "matchades inte" in missed["summary"]
    assert [c["rule"] for c in missed["checks_now"] if not c["passed"]] == ["permission"]

    elsewhere = await explanation(client, admin, "elsewhere", body["event_id"])
    assert [c["rule"] for c in elsewhere["checks_now"] if not c["passed"]] == ["organisation"]


async def test_a_failed_email_is_explained_with_its_reason(
    client: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "u", grants={DYGN: "summary"})
        await session.commit()
    body = event_body()
    await record(engine, body)
    async with db.sessionmaker(engine)() as session:
        row = (await session.exec(select(OutboxMessage))).one()
        row.status, row.last_error = OutboxStatus.FAILED, "550 5.1.1 No such mailbox"
        await session.commit()

    got = await explanation(client, admin, "u", body["event_id"])
    assert got["summary"] == "Mejlet kunde inte levereras: 550 5.1.1 No such mailbox"


async def test_an_event_never_received_says_so(
    client: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "u")
        await session.commit()
    got = await explanation(client, admin, "u", "6f1c1e9e-0b7a-4a53-9a43-1f0f6a1d2b11")
    assert got["received"] is False and "dead letters" in got["summary"]


async def test_the_explanation_needs_the_admin_token_and_a_known_user(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    path = "/api/v1/users/nobody/events/6f1c1e9e-0b7a-4a53-9a43-1f0f6a1d2b11/explanation"
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=admin)).status_code == 404


async def test_times_in_the_explanation_are_swedish_time(
    client: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    async with db.sessionmaker(engine)() as session:
        await add_user(session, "u", grants={DYGN: "full"})
        await session.commit()
    body = event_body()
    await record(engine, body)
    async with db.sessionmaker(engine)() as session:
        row = (await session.exec(select(OutboxMessage))).one()
        row.status, row.sent_at = OutboxStatus.SENT, datetime(2026, 11, 26, 17, 44, tzinfo=UTC)
        await session.commit()

    got = await explanation(client, admin, "u", body["event_id"])
    assert got["summary"] == "Mejlet skickades 2026-11-26 18.44 (svensk tid)."


async def test_notifier_explain_answers_on_the_command_line(
    postgresql_only: AsyncEngine,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with db.sessionmaker(postgresql_only)() as session:
        await add_user(session, "no-grant", grants={FAST: "full"})
        await session.commit()
    body = event_body()
    await record(postgresql_only, body)
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", postgres_url)

    assert await asyncio.to_thread(cli.main, ["explain", "no-grant", body["event_id"]]) == 0
    shown = capsys.readouterr().out
    assert "matchades inte" in shown and "nej  permission" in shown
    assert await asyncio.to_thread(cli.main, ["explain", "nobody", body["event_id"]]) == 1
    assert "Användaren finns inte." in capsys.readouterr().err
