"""The public form's POSTs are limited per client, with a Swedish message."""

import httpx
import pytest

from notifier.settings import Settings
from tests.test_web_form import SEA, submit_ticket


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.support_rate_limit = "2 per minute"
    return settings


async def test_too_many_posts_get_a_clear_swedish_answer(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        assert (await submit_ticket(client, SEA)).status_code == 303
    refused = await submit_ticket(client, SEA)
    assert refused.status_code == 429
    assert "för många gånger på kort tid" in refused.text
    assert 0 < int(refused.headers["retry-after"]) <= 60
