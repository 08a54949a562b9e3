"""/docs describes every operation (issue 26): a summary and a description of our own
(not FastAPI's title made from a function name), and examples for what a client sends."""

from typing import Any

import httpx
import pytest

from notifier.web.api_docs import BODIES, OPERATIONS

METHODS = ("get", "put", "post", "delete", "patch")


async def operations(client: httpx.AsyncClient) -> list[tuple[str, str, dict[str, Any]]]:
    schema = (await client.get("/openapi.json")).json()
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def test_every_operation_has_a_summary_and_a_description_of_ours(
    client: httpx.AsyncClient,
) -> None:
    missing = [
        f"{method.upper()} {path}"
        for method, path, operation in await operations(client)
        if (method, path) not in OPERATIONS
        or (operation["summary"], operation["description"]) != OPERATIONS[(method, path)]
    ]
    assert not missing, f"add these to notifier/web/api_docs.py: {missing}"


async def test_every_request_body_and_parameter_has_an_example(client: httpx.AsyncClient) -> None:
    for method, path, operation in await operations(client):
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            assert "example" in content, f"{method.upper()} {path} {media}"
        for parameter in operation.get("parameters", []):
            assert "example" in parameter, f"{method.upper()} {path} {parameter['name']}"


@pytest.mark.parametrize("path", ["/api/v1/support/route", "/api/v1/support/tickets"])
async def test_the_public_examples_are_accepted_as_they_stand(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.post(path, json=BODIES[("post", path)])
    assert response.status_code in (200, 201), response.text


async def test_the_admin_examples_are_accepted_as_they_stand(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for suffix in ("", "/permissions", "/subscriptions"):
        body = BODIES[("put", f"/api/v1/users/{{user_id}}{suffix}")]
        response = await client.put(f"/api/v1/users/u-1234{suffix}", json=body, headers=admin)
        assert response.status_code in (200, 201), response.text
