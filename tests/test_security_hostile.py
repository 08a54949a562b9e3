"""Hostile input over every public field, API and HTML form, on PostgreSQL (issue 10):
whatever comes in is answered 2xx, 3xx or 4xx, never 5xx, and a refused write leaves
no ticket and no outbox row behind."""

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.compose import Services
from notifier.outbox.models import OutboxMessage
from routing.ticketing.models import Ticket
from tests.factories import user_body
from tests.test_support_api import count
from tests.test_support_api_idempotency import SEA_QUESTION
from tests.test_triage import mint
from tests.test_web_form import DETAILS, SEA, csrf_of

pytestmark = pytest.mark.parametrize("backend_engine", ["postgresql"], indirect=True)

# What people and attackers send: NUL and other controls, CR/LF, Unicode digits that
# `isdigit()` takes and `int()` refuses, lone surrogates, and text far past any limit.
NASTY = st.sampled_from(
    [
        "",
        "\x00",
        "hej\x00",
        "\r\n",
        "x\r\nE-post: a@evil.example",
        "²",
        "①",
        "\u2028",
        "\x85",
        "\x1b[31m",
        "\ud800",
        "\udfff",
        "x" * 6000,
        "Å" * 300,
        "0180",
        "kommun:0180",
    ]
)
TEXT = st.one_of(NASTY, st.text(st.characters(codec=None), max_size=40), st.text(max_size=400))
FIELDS = [*SEA_QUESTION, "name", "email", "message", "diarienummer", "case_officer", "browser"]
HOSTILE = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def as_json(body: Any) -> dict[str, Any]:
    """A JSON request that may carry lone surrogates (escaped, as JSON allows)."""
    return {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}


def as_path(text: str) -> str:
    return quote(text, safe="", errors="surrogatepass")


async def stored(services: Services) -> tuple[int, int]:
    return await count(services, Ticket), await count(services, OutboxMessage)


def answered(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:300]


@HOSTILE
@given(field=st.sampled_from(FIELDS), value=TEXT, path=st.sampled_from(["route", "tickets"]))
async def test_support_api_answers_any_field_without_5xx_or_half_stored_ticket(
    client: httpx.AsyncClient, services: Services, field: str, value: str, path: str
) -> None:
    before = await stored(services)
    body = SEA_QUESTION | {field: value}
    response = await client.post(f"/api/v1/support/{path}", **as_json(body))
    answered(response)
    if response.status_code != 201:
        assert await stored(services) == before


@HOSTILE
@given(field=st.sampled_from([*SEA, *DETAILS]), value=TEXT)
async def test_web_form_answers_any_field_without_5xx_or_half_stored_ticket(
    client: httpx.AsyncClient, services: Services, field: str, value: str
) -> None:
    page = await client.get("/support", params=SEA)
    form = "&".join(
        f"{quote(k)}={as_path(v)}"
        for k, v in (SEA | DETAILS | {"csrf_token": csrf_of(page), field: value}).items()
    )
    before = await stored(services)
    response = await client.post(
        "/support/arende",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    answered(response)
    if response.status_code != 303:
        assert await stored(services) == before


@HOSTILE
@given(params=st.dictionaries(TEXT, TEXT, max_size=4))
async def test_support_page_answers_any_query(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    query = "&".join(f"{as_path(k)}={as_path(v)}" for k, v in params.items())
    answered(await client.get(f"/support?{query}"))


@HOSTILE
@given(user_id=TEXT, name=TEXT, grants=st.dictionaries(TEXT, TEXT, max_size=2), events=TEXT)
async def test_admin_puts_answer_any_input(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    user_id: str,
    name: str,
    grants: dict[str, str],
    events: str,
) -> None:
    path = f"/api/v1/users/{as_path(user_id) or 'u'}"
    headers = admin | {"Content-Type": "application/json"}
    answered(await client.put(path, content=json.dumps(user_body(name=name)), headers=headers))
    answered(
        await client.put(
            f"{path}/permissions", content=json.dumps({"grants": grants}), headers=headers
        )
    )
    body = {"enabled": True, "event_types": [events], "delivery": name}
    answered(await client.put(f"{path}/subscriptions", content=json.dumps(body), headers=headers))
    line = json.dumps({"id": user_id, "name": name, "grants": grants}) + "\n" + name
    bulk = admin | {"Content-Type": "application/x-ndjson"}
    answered(
        await client.post(
            "/api/v1/users/bulk", content=line.encode(errors="surrogatepass"), headers=bulk
        )
    )


@HOSTILE
@given(q=TEXT, destination=TEXT, note=TEXT, ticket_id=TEXT)
async def test_triage_api_answers_any_filter_note_or_reroute(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    q: str,
    destination: str,
    note: str,
    ticket_id: str,
) -> None:
    _, staff = await mint(client, admin)
    query = f"q={as_path(q)}&destination={as_path(destination)}"
    answered(await client.get(f"/api/v1/triage/tickets?{query}", headers=staff))
    ticket = f"/api/v1/triage/tickets/{as_path(ticket_id) or 't'}"
    answered(await client.get(ticket, headers=staff))
    json_headers = staff | {"Content-Type": "application/json"}
    answered(
        await client.post(
            f"{ticket}/notes", content=json.dumps({"text": note}), headers=json_headers
        )
    )
    reroute = {"destination": destination, "reason": note}
    answered(
        await client.post(f"{ticket}/reroute", content=json.dumps(reroute), headers=json_headers)
    )


@HOSTILE
@given(token=TEXT, prefix=st.sampled_from(["/unsubscribe", "/mina-notifieringar"]))
async def test_link_pages_answer_any_token(
    client: httpx.AsyncClient, token: str, prefix: str
) -> None:
    url = f"{prefix}/{as_path(token) or 'x'}"
    answered(await client.get(url))
    answered(await client.post(url, data={"List-Unsubscribe": "One-Click"}))
