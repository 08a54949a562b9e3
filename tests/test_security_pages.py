"""Public pages answer odd query values with a page, never a 500 (issue 10, #6)."""

import httpx
import pytest

from tests.test_web_form import SEA


@pytest.mark.parametrize(
    "query",
    ["step=%C2%B2", "visa=%C2%B3", "step=%E2%91%A0", "visa=%D9%A3", "step=1%C2%B2", "visa=-1"],
)
async def test_a_step_that_is_no_ascii_number_is_ignored(
    client: httpx.AsyncClient, query: str
) -> None:
    response = await client.get(f"/support?{query}")
    assert response.status_code == 200
    assert "Vad gäller din fråga?" in response.text


async def test_a_superscript_view_number_on_a_result_is_ignored(client: httpx.AsyncClient) -> None:
    response = await client.get("/support", params=SEA | {"visa": "²"})
    assert response.status_code == 200
