"""The OpenAPI document tells the truth (issue 10, #17): every refusal a route gives is
declared, closed sets and organisation codes are in the schema, and `Allow` names every
method a URL takes."""

import httpx
import pytest

from domain.organisations import OrganisationRef


async def _operations(client: httpx.AsyncClient) -> dict[str, dict[str, dict]]:
    return (await client.get("/openapi.json")).json()["paths"]


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/v1/users/{user_id}", "put", {"400", "401", "404", "413", "422"}),
        ("/api/v1/users/bulk", "post", {"401", "413", "415"}),
        ("/api/v1/support/tickets", "post", {"400", "413", "422", "429"}),
        ("/api/v1/support/route", "post", {"400", "413", "422"}),
        ("/api/v1/triage/tickets/{ticket_id}/claim", "post", {"401", "403", "404", "409"}),
        ("/api/v1/triage/answers", "get", {"401", "403"}),
        ("/unsubscribe/{token}", "post", {"400", "404"}),
        ("/mina-notifieringar/{token}", "post", {"303", "400", "403", "404"}),
    ],
)
async def test_openapi_declares_the_refusals_each_route_gives(
    client: httpx.AsyncClient, path: str, method: str, codes: set[str]
) -> None:
    declared = set((await _operations(client))[path][method]["responses"])
    assert codes <= declared


async def test_openapi_names_organisation_codes_per_kind(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    choices = document["components"]["schemas"]["OrganisationRef"]["oneOf"]
    by_kind = {c["properties"]["kind"]["const"]: c["properties"]["code"] for c in choices}
    assert by_kind["kommun"]["pattern"] == r"^\d{4}$" and "0180" in by_kind["kommun"]["enum"]
    assert by_kind["region"]["pattern"] == r"^\d{2}$" and "01" in by_kind["region"]["enum"]
    assert "0180" not in by_kind["region"]["enum"]


def test_organisation_messages_are_kept() -> None:
    with pytest.raises(ValueError, match="ingen kommunkod"):
        OrganisationRef.model_validate({"kind": "kommun", "code": "9999"})


async def test_openapi_gives_text_fields_the_control_character_rule(
    client: httpx.AsyncClient,
) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    assert "\\x00" in schemas["UserIn"]["properties"]["name"]["pattern"]


async def test_options_on_the_unsubscribe_url_allows_post(client: httpx.AsyncClient) -> None:
    response = await client.options("/unsubscribe/any-token")
    assert response.status_code == 204
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


async def test_a_refused_method_names_every_method_of_the_url(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.patch("/api/v1/users/u-1", headers=admin)
    assert response.status_code == 405
    assert {"GET", "PUT", "DELETE"} <= {m.strip() for m in response.headers["Allow"].split(",")}
