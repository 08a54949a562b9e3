"""The support routing API (docs/contracts.md §3) through the whole app, on SQLite and
PostgreSQL."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from notifier.app import create_app
from notifier.compose import Services, build_services
from notifier.outbox.models import OutboxMessage
from notifier.settings import Settings
from routing.decision.rules import default_rules
from routing.ticketing.models import Ticket, TicketEvent

KOMMUN = {"kind": "kommun", "code": "0180"}
REGION = {"kind": "region", "code": "14"}
MONDAY_MORNING = "2024-01-08T10:00:00+01:00"
PERSON = {"name": "Anna Berg", "email": "anna.berg@stockholm.se", "message": "Hjälp!"}


def inquiry(**fields: Any) -> dict[str, Any]:
    return {"organisation": KOMMUN, "asked_at": MONDAY_MORNING} | PERSON | fields


# issue type and fields → (rule id, primary destination, a ticket?)
ISSUES = [
    (
        {"issue_type": "login", "login_step": 1},
        "login-step1-kommun",
        "mv_kontaktcenter_kommun",
        True,
    ),
    (
        {"issue_type": "login", "login_step": "1", "organisation": REGION},
        "login-step1-region",
        "mv_kontaktcenter_region",
        True,
    ),
    ({"issue_type": "login", "login_step": 2}, "login-step2", "local_it", False),
    (
        {"issue_type": "login", "login_step": 2, "login_method": "siths_card_netid"},
        "login-step2-netid",
        "local_it",
        False,
    ),
    ({"issue_type": "permissions"}, "permissions", "local_admin", False),
    (
        {"issue_type": "browser", "browser": "Mozilla/4.0 (MSIE 8.0)"},
        "browser-ie",
        "self_service",
        False,
    ),
    (
        {"issue_type": "compensation", "compensation_type": "fast-arlig-ensamkommande"},
        "compensation-sea",
        "sea",
        True,
    ),
    ({"issue_type": "compensation", "target_group": "nyanlanda"}, "compensation-sen", "sen", True),
    ({"issue_type": "eservice_general"}, "eservice-general", "local_admin", False),
    ({"issue_type": "not_eservice"}, "not-eservice", "self_service", False),
    ({"issue_type": "education_periods"}, "education-periods", "self_service", False),
    ({"issue_type": "notifications"}, "notifications", "self_service", False),
    ({"issue_type": "getting_started"}, "getting-started", "self_service", False),
]
ISSUE_IDS = [f"{rule}" for _, rule, _, _ in ISSUES]


async def count(services: Services, model: type[Any]) -> int:
    async with services.sessions() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


@pytest.mark.parametrize(("fields", "rule_id", "primary", "ticket"), ISSUES, ids=ISSUE_IDS)
async def test_the_dry_run_routes_each_issue_type_and_stores_nothing(
    client: httpx.AsyncClient,
    services: Services,
    fields: dict[str, Any],
    rule_id: str,
    primary: str,
    ticket: bool,
) -> None:
    response = await client.post("/api/v1/support/route", json=inquiry(**fields))

    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["rule"] == {"id": rule_id, "version": default_rules().version}
    assert decision["primary"]["destination"] == primary
    assert await count(services, Ticket) == 0
    assert await count(services, OutboxMessage) == 0


@pytest.mark.parametrize(("fields", "rule_id", "primary", "ticket"), ISSUES, ids=ISSUE_IDS)
async def test_a_ticket_only_where_the_route_is_migrationsverkets(
    client: httpx.AsyncClient,
    services: Services,
    fields: dict[str, Any],
    rule_id: str,
    primary: str,
    ticket: bool,
) -> None:
    response = await client.post("/api/v1/support/tickets", json=inquiry(**fields))

    body = response.json()
    assert response.status_code == (201 if ticket else 200), response.text
    assert body["decision"]["rule"]["id"] == rule_id
    assert await count(services, Ticket) == int(ticket)
    # The forward, and the person's receipt.
    assert await count(services, OutboxMessage) == 2 * int(ticket)
    if ticket:
        assert body["ticket"]["status"] == "new"
        assert body["ticket"]["destination"] == primary
        assert body["ticket"]["reference"].startswith("SUP-")
    else:
        assert body["ticket"] is None


async def test_a_ticket_is_stored_with_its_rule_its_audit_event_and_its_forward(
    client: httpx.AsyncClient, services: Services
) -> None:
    fields = {"issue_type": "compensation", "target_group": "nyanlanda", "diarienummer": "1.2-3"}
    response = await client.post("/api/v1/support/tickets", json=inquiry(**fields))
    ticket_id = response.json()["ticket"]["id"]

    async with services.sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        [event] = (await session.exec(select(TicketEvent))).all()
        [forward] = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "ticket"))
        ).all()
    assert ticket is not None
    assert (ticket.rule_id, ticket.rule_version) == ("compensation-sen", default_rules().version)
    assert ticket.inquiry["diarienummer"] == "1.2-3"
    assert (event.action, event.detail["rule_id"]) == ("created", "compensation-sen")
    assert (forward.kind, forward.channel, forward.ticket_id) == ("ticket", "email", ticket_id)
    assert forward.recipient == "sen@tickets.statlig-ersattning.invalid"
    assert forward.headers == {}  # no reply domain: nothing to reply to, never the asker
    assert ticket.reference in (forward.subject or "")
    assert "Statlig ersättning" not in (forward.recipient or "")


async def test_the_decision_says_whether_the_phone_is_open(client: httpx.AsyncClient) -> None:
    fields = {"issue_type": "compensation", "target_group": "asylsokande"}
    saturday = inquiry(**fields, asked_at="2024-02-03T10:00:00+01:00")
    primary = (await client.post("/api/v1/support/route", json=saturday)).json()["primary"]
    assert primary["phone_open_now"] is False
    assert primary["phone_opens_next"] == "2024-02-05T09:00:00+01:00"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"issue_type": "weather"}, "issue_type"),
        ({"issue_type": "login", "login_step": 3}, "login_step"),
        ({"issue_type": "login", "login_step": 1, "login_method": "bankid"}, "login_method"),
        (
            {
                "issue_type": "login",
                "login_step": 1,
                "organisation": {"kind": "kommun", "code": "0000"},
            },
            "organisation",
        ),
        (
            {
                "issue_type": "login",
                "login_step": 1,
                "organisation": {"kind": "land", "code": "01"},
            },
            "organisation",
        ),
        ({"issue_type": "compensation", "compensation_type": "okand"}, "compensation_type"),
        ({"issue_type": "compensation", "target_group": "alla"}, "target_group"),
        ({"issue_type": "permissions", "email": "inte-en-adress"}, "email"),
        ({"issue_type": "permissions", "asked_at": "2024-01-08T10:00:00"}, "asked_at"),
        ({"issue_type": "permissions", "message": "x" * 5001}, "message"),
        ({"issue_type": "permissions", "colour": "blue"}, "colour"),
        ({"issue_type": "login", "login_step": None}, "login_step"),
        ({"issue_type": "login", "organisation": None, "login_step": 1}, "organisation"),
        ({"issue_type": "compensation"}, "compensation_type"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/support/route", "/api/v1/support/tickets"])
async def test_an_invalid_field_gets_422_naming_it_and_stores_nothing(
    client: httpx.AsyncClient, services: Services, fields: dict[str, Any], field: str, path: str
) -> None:
    response = await client.post(path, json=inquiry(**fields))

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][:2] == ["body", field]
    assert error["msg"]
    assert await count(services, Ticket) == 0


async def test_a_ticket_needs_a_way_to_answer_the_person(
    client: httpx.AsyncClient, services: Services
) -> None:
    body = {"issue_type": "compensation", "target_group": "nyanlanda"}
    response = await client.post("/api/v1/support/tickets", json=body)

    assert response.status_code == 422
    fields = {error["loc"][1] for error in response.json()["detail"]}
    assert fields == {"organisation", "name", "email", "message"}
    assert await count(services, Ticket) == 0
    # The same inquiry is fine as a dry run: nobody needs to be answered.
    assert (await client.post("/api/v1/support/route", json=body)).status_code == 200


@asynccontextmanager
async def app_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield client


async def test_a_destination_with_an_endpoint_gets_its_tickets_over_http(
    settings: Settings, services: Services
) -> None:
    endpoint = "https://tickets.example.invalid/sea"
    configured = settings.model_copy(update={"forward_endpoints": {"sea": endpoint}})
    async with app_client(build_services(configured, services.engine)) as client:
        fields = {"issue_type": "compensation", "target_group": "asylsokande"}
        response = await client.post("/api/v1/support/tickets", json=inquiry(**fields))

    assert response.status_code == 201
    async with services.sessions() as session:
        [forward] = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "ticket"))
        ).all()
    assert (forward.channel, forward.recipient) == ("http", endpoint)


async def test_without_asked_at_the_services_clock_is_the_moment(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.clock = lambda: datetime.fromisoformat("2024-06-21T10:00:00+02:00")  # Midsommarafton
    body = {"issue_type": "compensation", "target_group": "nyanlanda"}
    primary = (await client.post("/api/v1/support/route", json=body)).json()["primary"]
    assert primary["phone_open_now"] is False
    assert primary["phone_opens_next"] == "2024-06-24T09:00:00+02:00"


async def test_an_operator_rules_file_replaces_the_shipped_one(
    settings: Settings, services: Services, tmp_path: Path
) -> None:
    shipped = files("routing.decision").joinpath("rules.toml").read_text(encoding="utf-8")
    edited = shipped.replace('primary = "local_admin"\nadvice', 'primary = "sea"\nadvice', 1)
    path = tmp_path / "rules.toml"
    path.write_text(edited, encoding="utf-8")
    custom = build_services(settings.model_copy(update={"routing_rules": path}), services.engine)

    async with app_client(custom) as client:
        response = await client.post(
            "/api/v1/support/route", json=inquiry(issue_type="permissions")
        )

    decision = response.json()
    assert decision["primary"]["destination"] == "sea"
    assert decision["rule"]["version"] == custom.rules.version != default_rules().version
