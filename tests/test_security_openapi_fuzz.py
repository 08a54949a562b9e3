"""schemathesis over /openapi.json with every check, on PostgreSQL (issue 10, #17 and the
hostile-input suite): whatever the schema allows is accepted, whatever it forbids is
refused with a declared 4xx, and no answer is a 5xx or outside the schema.

schemathesis drives the app in its own event-loop thread, so the app gets an engine of its
own there, without a pool (no connection crosses event loops)."""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.python import asgi
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from notifier import db
from notifier.app import create_app
from notifier.compose import build_services
from notifier.settings import Settings
from tests.conftest import ADMIN_TOKEN, _empty_tables

load_all_checks()
EVERY_CHECK = CHECKS.get_all()

# Where a check cannot apply, and why (every other check runs on every operation):
NOT_APPLICABLE = {
    # Which fields an inquiry needs depends on its issue type and, for a ticket, on the
    # route the rules choose (a ticket to Migrationsverket needs name, email and message;
    # a pointer to Inera needs neither): no JSON schema of the request can say it. The 422
    # names each missing field, and the hostile-input suite holds that it is never a 5xx.
    ("POST", "/api/v1/support/route"): {"positive_data_acceptance"},
    ("POST", "/api/v1/support/tickets"): {"positive_data_acceptance"},
    # /api/v1/users/bulk's body is NDJSON, declared as a string: any bytes are a stream
    # whose bad lines are refused one by one in the 200 answer (docs/contracts.md §3), never the
    # whole request.
    ("*", "/api/v1/users/bulk"): {"negative_data_rejection"},
    # `format: email` cannot say that special-use domains (RFC 6761: .test, .invalid,
    # .localhost) are refused; the service refuses them, as no one can be mailed there.
    ("PUT", "/api/v1/users/{user_id}"): {"positive_data_acceptance"},
    ("POST", "/api/v1/templates/{name}/test"): {"positive_data_acceptance"},
}


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: Any, value: Any) -> bytes:
    """The bulk body is declared as a string (NDJSON has no schema of its own): sent as is."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


def checks_for(case: schemathesis.Case) -> list[Any]:
    skipped = NOT_APPLICABLE.get((case.method.upper(), case.path), set()) | NOT_APPLICABLE.get(
        ("*", case.path), set()
    )
    return [check for check in EVERY_CHECK if check.__name__ not in skipped]


@pytest.fixture(scope="module")
async def fuzzed(
    postgres_url: str, postgresql_engine: AsyncEngine, var_dir: Path
) -> AsyncIterator[tuple[FastAPI, str]]:
    """The app on a fresh PostgreSQL database and a staff token for the triage API."""
    suffix = uuid.uuid4().hex[:10]
    settings = _settings(
        mail_dir=var_dir / "mail",
        # Examples, not a flood: the budget stays declared (429) but rarely answers.
        support_rate_limit="100000 per minute",
        # The console publishes announcements and reads dead letters: on names of its own.
        events_exchange=f"test.fuzz.{suffix}",
        events_queue=f"test.fuzz.{suffix}",
        dead_letter_queue=f"test.fuzz.{suffix}.dead",
    )
    engine = db.create_engine(postgres_url, poolclass=NullPool)
    app = create_app(build_services(settings, engine))
    with asgi.get_client(app) as client:
        minted = client.post(
            "/api/v1/staff",
            json={"name": "Karin Ek", "roles": ["operator"]},
            headers=_bearer(ADMIN_TOKEN),
        )
        assert minted.status_code == 201, minted.text
    yield app, minted.json()["token"]
    asgi.shutdown_lifespans()
    await _empty_tables(postgresql_engine)
    await _forget(settings)


async def _forget(settings: Settings) -> None:
    connection = await aio_pika.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        for queue in (settings.events_queue, settings.dead_letter_queue):
            await channel.queue_delete(queue)
        await channel.exchange_delete(settings.events_exchange)


@pytest.fixture
def fuzzed_app(fuzzed: tuple[FastAPI, str]) -> FastAPI:
    return fuzzed[0]


@pytest.fixture
def staff_token(fuzzed: tuple[FastAPI, str]) -> str:
    return fuzzed[1]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _settings(**overrides: Any) -> Settings:
    return Settings(
        database_url="sqlite:///unused",
        admin_token=ADMIN_TOKEN,
        secret_key="test-secret-key-of-at-least-32-bytes",
        **overrides,
    )


# The document does not depend on the database: read once from an app that never opens
# one (schemathesis' lazy `from_fixture` does not run under pytest 9); each case is sent
# to the fixture's app on PostgreSQL instead.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(build_services(_settings(), db.create_engine("sqlite://")))
)


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_answers_as_its_schema_says(
    case: schemathesis.Case, fuzzed_app: FastAPI, staff_token: str
) -> None:
    token = staff_token if case.path.startswith("/api/v1/triage") else ADMIN_TOKEN
    case.call_and_validate(app=fuzzed_app, headers=_bearer(token), checks=checks_for(case))
