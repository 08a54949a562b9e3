"""The benchmark data set: users over all 290 kommuner and 21 regioner, with grants and
subscriptions drawn like a real e-service's, written with COPY into a PostgreSQL database
of its own per size (notifier_bench_v<VERSION>_<users>), built once and reused.

Organisations differ in size (log-normal weights: a few large, many small). A user holds
one grant, one in five a second (the unaccompanied-children types more often; 40 % full,
60 % summary), and subscribes to one event type, one in four to a second (payments and
decisions far more often than a case's every step; 9 in 10 enabled). Events fall on
organisations by the same weights as users, so a payment run falls where the users are:
about 17 recipients per payment with 100,000 users, 170 with 1,000,000. An ordinary day's
events (mixed_events) are mostly a case's steps, which few follow: about 5 recipients per
event with 100,000 users. These are the issue's shapes (#11): ≈ 5 recipients per event
for the consumer, ≈ 150 per payment for the fan-out at 1,000,000 users.
"""

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import asyncpg
from sqlalchemy import Executable
from sqlalchemy.dialects import postgresql

from domain.compensation import ANNOUNCEMENT, COMPENSATION_TYPES, EVENT_TYPES
from domain.organisations import organisations
from notifier import db
from subscriptions import lookup

SERVER = "postgresql://postgres@127.0.0.1:5432"
SEED = 20261127
VERSION = 7  # of the generator and schema: a change here builds new databases
CHUNK = 50_000
# How often each compensation type is granted: the unaccompanied-children types dominate.
GRANT_WEIGHTS = dict(zip(COMPENSATION_TYPES, (4, 3, 2, 4, 2, 2, 2, 2, 1, 2), strict=True))
# What users subscribe to: payments and decisions, seldom a case's every step.
SUBSCRIPTION_WEIGHTS = {
    "payment.disbursed": 6,
    "application.decided": 4,
    "application.submitted": 1,
    "application.message": 1,
    "payment.automatic": 3,
    "application.supplement_requested": 2,
    "application.case_officer_assigned": 1,
    "service.announcement": 3,
}
# What the e-service publishes on an ordinary day: mostly a case's steps, few payments.
EVENT_WEIGHTS = {
    "payment.disbursed": 10,
    "application.decided": 30,
    "application.submitted": 60,
    "application.message": 80,
    "payment.automatic": 10,
    "application.supplement_requested": 30,
    "application.case_officer_assigned": 50,
    "service.announcement": 1,
}
assert set(EVENT_WEIGHTS) == set(SUBSCRIPTION_WEIGHTS) == set(EVENT_TYPES)
FIRST_NAMES = ("Anna", "Erik", "Fatima", "Lars", "Maria", "Ahmed", "Karin", "Johan", "Sara")
LAST_NAMES = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Hassan", "Berg", "Öberg")


@dataclass(frozen=True, slots=True)
class Org:
    kind: str
    code: str
    weight: float


@cache
def orgs() -> list[Org]:
    rng = random.Random(SEED)
    found = sorted((kind.value, code) for kind, code in organisations())
    return [Org(kind, code, rng.lognormvariate(0, 0.5)) for kind, code in found]


def name(users: int) -> str:
    return f"notifier_bench_v{VERSION}_{users}"


def url(users: int) -> str:
    return f"{SERVER}/{name(users)}"


async def dataset(users: int) -> str:
    """The URL of a migrated database holding exactly `users` generated users."""
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name(users)):
            await admin.execute(f'CREATE DATABASE "{name(users)}"')
    finally:
        await admin.close()
    engine = db.create_engine(url(users))
    await db.migrate(engine)
    await engine.dispose()
    connection = await asyncpg.connect(url(users))
    try:
        if await connection.fetchval("SELECT count(*) FROM users") != users:
            await _fill(connection, users)
        await clear_pipeline(connection)
    finally:
        await connection.close()
    return url(users)


async def clear_pipeline(connection: asyncpg.Connection) -> None:
    """Empty the outbox and processed events, so each benchmark starts from none."""
    await connection.execute("TRUNCATE outbox, processed_events")


async def _fill(connection: asyncpg.Connection, users: int) -> None:
    await connection.execute("TRUNCATE users, permission_grants, subscriptions, recipient_keys")
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    for start in range(0, users, CHUNK):
        people, grants, subs = _chunk(rng, start, min(start + CHUNK, users), now)
        async with connection.transaction():
            await connection.copy_records_to_table("users", records=people, columns=USER_COLS)
            await connection.copy_records_to_table(
                "permission_grants",
                records=grants,
                columns=["user_id", "compensation_type", "level"],
            )
            await connection.copy_records_to_table(
                "subscriptions", records=subs, columns=["user_id", "event_type", "enabled"]
            )
    # The recipient lookup as the store keeps it, derived set-wise once the rows are in.
    await connection.execute(_compiled(lookup.derive()))
    # Fresh statistics and visibility map: the planner and index-only scans need both.
    await connection.execute(
        "VACUUM ANALYZE users, permission_grants, subscriptions, recipient_keys"
    )


def _compiled(statement: Executable) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


USER_COLS = ["id", "email", "name", "org_kind", "org_code", "created_at", "updated_at"]
Rows = list[tuple[Any, ...]]


def _chunk(rng: random.Random, start: int, end: int, now: datetime) -> tuple[Rows, Rows, Rows]:
    everyone = orgs()
    weights = [org.weight for org in everyone]
    placed = rng.choices(everyone, weights=weights, k=end - start)
    people, grants, subs = [], [], []
    for number, org in enumerate(placed, start):
        user_id = f"u{number:07d}"
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        email = f"{user_id}@{org.kind}{org.code}.example.se"
        people.append((user_id, email, name, org.kind, org.code, now, now))
        for ctype in sorted(_some(rng, GRANT_WEIGHTS, 1 + (rng.random() < 0.2))):
            grants.append((user_id, ctype, "full" if rng.random() < 0.4 else "summary"))
        for event_type in sorted(_some(rng, SUBSCRIPTION_WEIGHTS, 1 + (rng.random() < 0.25))):
            subs.append((user_id, event_type, rng.random() < 0.9))
    return people, grants, subs


def _some(rng: random.Random, weights: dict[str, int], count: int) -> set[str]:
    chosen: set[str] = set()
    while len(chosen) < count:
        chosen.add(rng.choices(list(weights), weights=list(weights.values()))[0])
    return chosen


def events(
    count: int, *, seed: int = SEED, event_type: str = "payment.disbursed"
) -> Iterator[dict[str, Any]]:
    """Valid schema v1 events of one type over all organisations, by the users' weights."""
    rng = random.Random(seed)
    everyone = orgs()
    weights = [org.weight for org in everyone]
    types, type_weights = list(GRANT_WEIGHTS), list(GRANT_WEIGHTS.values())
    for _ in range(count):
        org = rng.choices(everyone, weights=weights)[0]
        yield {
            "schema_version": 1,
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "event_type": event_type,
            "occurred_at": "2026-11-26T10:15:00+01:00",
            "organisation": {"kind": org.kind, "code": org.code},
            "compensation_type": rng.choices(types, weights=type_weights)[0],
            "case": {"diarienummer": "1.1.3-2026-123456", "case_officer": "Anna Berg"},
            "person": {"name": "Åsa Öberg"},
            "payment": {"amount_sek": "12345.50", "paid_on": "2026-11-25"},
        }


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def mixed_events(count: int, *, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """Valid events of every type, drawn by EVENT_WEIGHTS, over all organisations: what
    the e-service publishes on an ordinary day.
    Half the announcements name their event's compensation type, half go to every holder."""
    rng = random.Random(seed)
    types, weights = list(EVENT_WEIGHTS), list(EVENT_WEIGHTS.values())
    for body in events(count, seed=seed):
        body["event_type"] = event_type = rng.choices(types, weights=weights)[0]
        if event_type == "application.decided":
            body["decision"] = {"outcome": "approved"}
        if event_type == ANNOUNCEMENT:
            ctype = body.pop("compensation_type")
            body["announcement"] = {
                "title": "Driftinformation",
                "body": "Ny version av e-tjänsten.",
                "compensation_types": [ctype] if rng.random() < 0.5 else [],
            }
        yield body
