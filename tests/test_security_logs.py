"""No log line of a failing request carries the request's personal data (issue 10, #2)."""

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from notifier import db
from notifier.app import create_app
from notifier.compose import build_services
from notifier.logs import JsonFormatter, RedactPersonalData, redact
from notifier.settings import Settings
from tests.pipeline_helpers import eventually
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


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    """What uvicorn's access logger writes through the service's own handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactPersonalData())
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        access.removeHandler(handler)
        access.setLevel(logging.NOTSET)


async def test_search_terms_never_reach_the_access_log(access_log: io.StringIO) -> None:
    """A real uvicorn writes the request line as it came: percent-encoded, `+` for spaces."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

    server = uvicorn.Server(uvicorn.Config(app, port=0, log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await eventually(started, what="uvicorn listening")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await client.get("/api/v1/triage/tickets", params={"q": "anna.berg@stockholm.se"})
            await client.get("/api/v1/triage/tickets", params={"q": "Anna Berg", "status": "new"})
            await client.get("/api/v1/triage/tickets?q=19121212%2D1212")
            await client.delete("/api/v1/suppressions/anna.berg%40stockholm.se")
    finally:
        server.should_exit = True
        await serving
    lines = [json.loads(line)["message"] for line in access_log.getvalue().splitlines()]
    assert len(lines) == 4
    text = "\n".join(lines)
    for personal in ("anna.berg", "Anna", "Berg", "stockholm", "19121212", "1212"):
        assert personal not in text
    assert '"GET /api/v1/triage/tickets?… HTTP/1.1" 200' in lines[0]
    assert "/api/v1/suppressions/[e-post]" in lines[3]


@pytest.mark.parametrize(
    "identifier",
    [
        "12345678-1234-4234-8234-123456789012",  # all digits where a personnummer could be
        "0b850101-1234-4e5f-9a0b-c1d2e3f4a5b6",
        "676ab6eb-0d8b-4624-8d2c-198501011234",
        "a3f1198501011234e5d6c7b8a9f0e1d2",  # a hash's hex digits
    ],
)
def test_ids_in_logs_are_left_whole(identifier: str) -> None:
    assert redact(f"ticket {identifier} claimed") == f"ticket {identifier} claimed"


@pytest.mark.parametrize(
    "text",
    [
        "19121212-1212",
        "191212121212",
        "121212-1212",
        "121212+1212",
        "1212121212",
        "pnr:850101-1234.",
        "Anna850101-1234",
        "samordningsnummer 701063-2391",  # day + 60
    ],
)
def test_identity_numbers_are_still_redacted(text: str) -> None:
    assert not any(char.isdigit() for char in redact(text).replace("[personnummer]", ""))
