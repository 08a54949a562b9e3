"""No log line of a failing request carries the request's personal data (issue 10, #2)."""

import io
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from notifier import db
from notifier.compose import build_services
from notifier.logs import JsonFormatter, RedactPersonalData
from notifier.settings import Settings
from notifier.app import create_app
from tests.test_support_api_idempotency import SEA_QUESTION
from tests.test_web_form import DETAILS, SEA, csrf_of

PERSONNUMMER = "19121212-1212"
NAME = "Tolvan Tolvansson"
EMAIL = "tolvan.tolvansson@example.se"
PERSONAL = {
    "name": NAME,
    "email": EMAIL,
    "message": f"Gäller barnet med personnummer {PERSONNUMMER}.",
}


@pytest.fixture
async def broken_client(settings: Settings, postgres_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a PostgreSQL connection whose search path finds no tables: every write
    raises in the database, as a lost table or a full disk would."""
    engine = db.create_engine(
        postgres_url, connect_args={"server_settings": {"search_path": "nowhere"}}
    )
    app = create_app(build_services(settings, engine))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await engine.dispose()


async def test_a_failing_request_logs_no_personal_data(
    broken_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(Exception) as failure:
        await broken_client.post("/api/v1/support/tickets", json=SEA_QUESTION | PERSONAL)
    # What uvicorn does with an exception that escapes the application.
    logging.getLogger("uvicorn.error").error(
        "Exception in ASGI application", exc_info=failure.value
    )
    assert "tickets" in caplog.text  # the failure is logged, with its statement
    for personal in (PERSONNUMMER, NAME, EMAIL):
        assert personal not in caplog.text


def test_the_log_filter_scrubs_identity_numbers_emails_and_row_details() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactPersonalData())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        error = ValueError(
            "null value in column\nDETAIL:  Failing row contains (1, Tolvan Tolvansson, x)."
        )
        logger.error("from %s about %s", EMAIL, "201212121212", exc_info=error)
        logger.error("Key (email)=(Tolvan Tolvansson) already exists; 121212+1212")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    text = stream.getvalue()
    assert lines[0]["message"] == "from [e-post] about [personnummer]"
    assert "Failing row contains (…)" in lines[0]["exception"]
    for personal in (PERSONNUMMER, "201212121212", "121212+1212", NAME, EMAIL):
        assert personal not in text


async def test_a_failing_form_post_logs_no_personal_data(
    broken_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    page = await broken_client.get("/support", params=SEA)
    form = SEA | DETAILS | {"csrf_token": csrf_of(page)} | PERSONAL
    with pytest.raises(Exception) as failure:
        await broken_client.post("/support/arende", data=form)
    logging.getLogger("uvicorn.error").error(
        "Exception in ASGI application", exc_info=failure.value
    )
    assert "tickets" in caplog.text
    for personal in (PERSONNUMMER, NAME, EMAIL):
        assert personal not in caplog.text
