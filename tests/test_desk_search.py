"""Searching the triage queue (`q`): by reference, email, diarienummer or words of the
question, case-insensitive, on both databases, in the JSON API and on the HTML desk."""

from typing import Any

import httpx
import pytest

from tests.test_triage import login, mint


def inquiry(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "issue_type": "compensation",
        "organisation": {"kind": "kommun", "code": "0180"},
        "target_group": "asylsokande",
        "name": "Anna Berg",
        "email": "anna.berg@stockholm.se",
        "message": "När betalas dygnsschablonen ut?",
    }
    return body | overrides


async def api_ticket(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    answer = await client.post("/api/v1/support/tickets", json=inquiry(**overrides))
    assert answer.status_code == 201, answer.text
    ticket: dict[str, Any] = answer.json()["ticket"]
    return ticket


@pytest.fixture
async def found(client: httpx.AsyncClient, admin: dict[str, str]) -> Any:
    staff = (await mint(client, admin))[1]

    async def search(q: str) -> list[str]:
        answer = await client.get(
            "/api/v1/triage/tickets", params={"destination": "alla", "q": q}, headers=staff
        )
        assert answer.status_code == 200, answer.text
        return [t["reference"] for t in answer.json()["tickets"]]

    return search


async def test_search_finds_by_reference_email_diarienummer_and_words(
    client: httpx.AsyncClient, found: Any
) -> None:
    payment = await api_ticket(client, message="Utbetalningen för juni saknas helt.")
    other = await api_ticket(
        client,
        email="karl.ek@goteborg.se",
        diarienummer="1.1.3-2026-654321",
        message="Beslutet om dygnsschablon har inte kommit.",
    )
    assert await found(payment["reference"].lower()) == [payment["reference"]]
    assert await found("KARL.EK@goteborg") == [other["reference"]]
    assert await found("2026-654321") == [other["reference"]]
    assert await found("utbetalningen JUNI") == [payment["reference"]]
    assert await found("juni beslutet") == []  # every word must match
    assert sorted(await found("dygnsschablon")) == [other["reference"]]
    assert len(await found("")) == 2


async def test_search_treats_like_wildcards_as_plain_characters(
    client: httpx.AsyncClient, found: Any
) -> None:
    await api_ticket(client, message="Vad gäller för 100 procent?")
    assert await found("100%") == []
    assert await found("_") == []


async def test_the_desk_page_searches_and_keeps_the_query_in_the_field(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    wanted = await api_ticket(client, message="Skärmbilden visar felkod 4711.")
    other = await api_ticket(client, message="Något helt annat.")
    staff = (await mint(client, admin))[1]
    assert (await login(client, staff)).status_code == 303
    page = await client.get("/triage", params={"mottagare": "alla", "q": "felkod"})
    assert wanted["reference"] in page.text and other["reference"] not in page.text
    assert 'value="felkod"' in page.text
