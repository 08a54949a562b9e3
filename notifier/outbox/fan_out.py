"""A batch's outbox rows written by PostgreSQL itself: INSERT … SELECT from the recipient
lookup, so no recipient passes through Python.

Fetching each event's recipients into Python, building a row for each and sending the
rows back with COPY cost the consumer about 2 µs of CPU per recipient: a sixth of its time
on an ordinary day, most of it in a payment run. (SQLite keeps that path, with
executemany: outbox.record_events.) Here each event's lookup keys
(subscriptions.matching.keys) go in as arrays, the join is the same one
(recipient_keys_pkey, or ix_recipient_keys_everywhere for an announcement to every
organisation), and the row is made in SQL as outbox._outbox_rows makes it: the same
Message-ID (sha256 of the user id), kind and status by the user's delivery, the level of
the key. An announcement naming several compensation types has a key per type; it reaches
each holder once, at the highest level held (DISTINCT ON). What comes back is one count per
event.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.drivers import writing_driver
from notifier.outbox.message_ids import message_id_sql
from subscriptions.matching import DAILY, FULL, KEYS, Target, keys
from subscriptions.models import NO_GRANT

# (scoped, several keys an event) → the statement's variant
Variant = tuple[bool, bool]
# The columns every row of a batch shares, in the order their values follow the arrays.
SHARED = {
    "channel": "varchar",
    "headers": "json",
    "attempts": "integer",
    "next_attempt_at": "timestamptz",
    "created_at": "timestamptz",
}


def statement(
    variant: Variant, *, outbox: str, immediate: Sequence[str], held: Sequence[str]
) -> str:
    """The INSERT … SELECT for events whose keys name an organisation (`scoped`) or not,
    with one key an event or `several`. $1–$5: each key's event id, organisation kind and
    code, event type, compensation type; then the values every row shares (SHARED)."""
    scoped, several = variant
    on_org = "k.org_kind = m.kind AND k.org_code = m.code AND " if scoped else ""
    distinct = "DISTINCT ON (m.event_id, k.user_id) " if several else ""
    # Each holder once, at the highest level among the named types they hold.
    order = (
        f"ORDER BY m.event_id, k.user_id, COALESCE(k.level = {_text(FULL)}, false) DESC"
        if several
        else ""
    )
    daily = f"k.delivery = {_text(DAILY)}"
    shared = ", ".join(f"${i}::{cast}" for i, cast in enumerate(SHARED.values(), 6))
    return f"""WITH added AS (
    INSERT INTO {outbox} (message_id, user_id, recipient, event_id, kind, status, level,
        {", ".join(SHARED)})
    SELECT {distinct}{message_id_sql("m.event_id", "k.user_id")},
        k.user_id, k.email, m.event_id,
        CASE WHEN {daily} THEN {_text(held[0])} ELSE {_text(immediate[0])} END,
        CASE WHEN {daily} THEN {_text(held[1])} ELSE {_text(immediate[1])} END,
        k.level, {shared}
    FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[])
        AS m (event_id, kind, code, event_type, ctype)
    JOIN {KEYS.name} AS k ON {on_org}k.event_type = m.event_type AND k.compensation_type = m.ctype
    {order}
    RETURNING event_id
)
SELECT event_id, count(*) FROM added GROUP BY event_id"""


def _text(value: str) -> str:
    """A constant of ours as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def key_arrays(targets: Sequence[tuple[str, Target]]) -> dict[Variant, list[list[Any]]]:
    """Each variant's five arrays, a row per (event, key), for (event id, target) pairs."""
    arrays: dict[Variant, list[list[Any]]] = {}
    for event_id, target in targets:
        found = keys(target)
        if not found:
            continue
        scoped = found[0][0] is not None
        columns = arrays.setdefault((scoped, len(found) > 1), [[], [], [], [], []])
        for org, event_type, ctype in found:
            kind, code = org if org is not None else (None, None)
            row = (event_id, kind, code, event_type, NO_GRANT if ctype is None else ctype)
            for values, value in zip(columns, row, strict=True):
                values.append(value)
    return arrays


async def insert(
    connection: AsyncConnection,
    targets: Sequence[tuple[str, Target]],
    statements: dict[Variant, str],
    *constants: Any,
) -> dict[str, int]:
    """Add the outbox rows of the (event id, target) pairs; how many each event got.
    `constants`: the values of SHARED."""
    driver = await writing_driver(connection)
    counts: dict[str, int] = {}
    for variant, arrays in key_arrays(targets).items():
        counts.update(await driver.fetch(statements[variant], *arrays, *constants))
    return counts
