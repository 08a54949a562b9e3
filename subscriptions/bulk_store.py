"""Writing a batch of bulk-loaded users (subscriptions.bulk) inside the caller's
transaction; never commits.

Per batch: the ids already stored, one upsert of the user rows, and, for the new users
and the stored ones whose grants or subscriptions differ, those deleted and inserted anew:
what the three PUTs do one user at a time; then, set-wise, the recipient lookup's rows of
those users and of the users who moved organisation. Rows go through the driver on the
session's own connection (COPY on PostgreSQL, executemany on SQLite), as the consumer's
outbox does, because SQLAlchemy's per-row parameter processing cost more than the
database did.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.drivers import writing_driver
from subscriptions import suppressions
from subscriptions.lookup import refresh
from subscriptions.models import PermissionGrant, Subscription, User

USERS: Table = User.metadata.tables[User.__tablename__]
GRANTS: Table = PermissionGrant.metadata.tables[PermissionGrant.__tablename__]
SUBSCRIPTIONS: Table = Subscription.metadata.tables[Subscription.__tablename__]
USER_COLUMNS = (
    "id", "email", "name", "org_kind", "org_code", "delivery", "created_at", "updated_at"
)  # fmt: skip
GRANT_COLUMNS = ("user_id", "compensation_type", "level")
SUBSCRIPTION_COLUMNS = ("user_id", "event_type", "enabled")
# created_at is left alone on update: the user was first mirrored then.
UPSERT_USERS = (
    f"INSERT INTO users ({', '.join(USER_COLUMNS)}) {{values}} "
    "ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, "
    "org_kind = excluded.org_kind, org_code = excluded.org_code, "
    "delivery = excluded.delivery, updated_at = excluded.updated_at"
)
UNNEST_USERS = (
    "SELECT id, email, name, org_kind, org_code, delivery, $7, $7 FROM unnest("
    "$1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[]"
    ") AS batch(id, email, name, org_kind, org_code, delivery)"
)

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class BulkUser:
    """One validated line: a user with all their grants and subscriptions."""

    id: str
    email: str
    name: str
    org_kind: str
    org_code: str
    grants: dict[str, str]  # compensation type → level
    event_types: tuple[str, ...]  # each once
    enabled: bool
    delivery: str


async def write_batch(*, session: AsyncSession, users: Sequence[BulkUser], now: datetime) -> int:
    """Store every user of the batch (ids unique within it); returns how many were new.

    The upsert locks each user's row until the commit, in id order, so that two loads of
    the same users take turns per user (never a deadlock) and the later one's writes win."""
    users = sorted(users, key=lambda user: user.id)
    ids = [user.id for user in users]
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # A batch's IN lists of 1,000 ids are prepared statements; after five runs
        # PostgreSQL may plan them generically, comparing each row with every id: the
        # reconcile of 50,000 stored users took 0.8 s a batch instead of 0.1.
        await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    else:
        # SQLite's one write lock, taken before reading what is stored: a concurrent load
        # then commits either before this reads or after this commits.
        await connection.exec_driver_sql("UPDATE users SET id = id WHERE 0")
    orgs = {
        user_id: (kind, code)
        for user_id, kind, code in await session.exec(
            select(User.id, User.org_kind, User.org_code).where(col(User.id).in_(ids))
        )
    }
    held = await suppressions.stored_addresses(session=session, user_ids=set(orgs))
    process = USERS.c["updated_at"].type.bind_processor(connection.dialect)
    when = process(now) if process is not None else now
    inserted = await _upsert_users(
        connection,
        [(u.id, u.email, u.name, u.org_kind, u.org_code, u.delivery, when, when) for u in users],
    )
    # Stored before the upsert: what another load committed meanwhile (its users' rows
    # were locked, so the upsert waited for them) counts as stored too.
    stored = set(ids) - inserted if inserted is not None else set(orgs)
    raced = stored - set(orgs)  # their organisation before is unknown: refreshed anyway
    # A reconcile mostly sends what is stored already: rewriting only the users whose
    # grants or subscriptions differ saves a delete and an insert per unchanged row.
    changed = [u for u in users if u.id not in stored] + await _changed(session, users, stored)
    grants = [(u.id, ctype, level) for u in changed for ctype, level in u.grants.items()]
    subscriptions = [(u.id, event_type, u.enabled) for u in changed for event_type in u.event_types]
    await _insert(connection, GRANTS, GRANT_COLUMNS, grants)
    await _insert(connection, SUBSCRIPTIONS, SUBSCRIPTION_COLUMNS, subscriptions)
    moved = [u.id for u in users if u.id in orgs and orgs[u.id] != (u.org_kind, u.org_code)]
    await refresh(session=session, user_ids={u.id for u in changed} | set(moved) | raced)
    if held:  # a user mirrored with a new address may have left a suppressed one behind
        await suppressions.lift_abandoned(session=session, emails=held, now=now)
    return len(ids) - len(stored)


async def _changed(
    session: AsyncSession, users: Sequence[BulkUser], stored: set[str]
) -> list[BulkUser]:
    """The stored users whose grants or subscriptions differ from the batch's, with what
    is stored for them deleted (as the PUTs replace them)."""
    if not stored:
        return []
    known = list(stored)
    grants: dict[str, set[tuple[str, str]]] = {user_id: set() for user_id in known}
    for user_id, ctype, level in await session.exec(
        select(
            PermissionGrant.user_id, PermissionGrant.compensation_type, PermissionGrant.level
        ).where(col(PermissionGrant.user_id).in_(known))
    ):
        grants[user_id].add((ctype, level))
    subscriptions: dict[str, set[tuple[str, bool]]] = {user_id: set() for user_id in known}
    for user_id, event_type, enabled in await session.exec(
        select(Subscription.user_id, Subscription.event_type, Subscription.enabled).where(
            col(Subscription.user_id).in_(known)
        )
    ):
        subscriptions[user_id].add((event_type, enabled))
    changed = [
        u
        for u in users
        if u.id in stored
        and (
            grants[u.id] != set(u.grants.items())
            or subscriptions[u.id] != {(e, u.enabled) for e in u.event_types}
        )
    ]
    if changed:
        ids = [u.id for u in changed]
        await session.exec(delete(PermissionGrant).where(col(PermissionGrant.user_id).in_(ids)))
        await session.exec(delete(Subscription).where(col(Subscription.user_id).in_(ids)))
    return changed


async def _upsert_users(connection: AsyncConnection, rows: list[Row]) -> set[str] | None:
    """Insert or update the rows; on PostgreSQL the ids it inserted (SQLite: None)."""
    driver = await writing_driver(connection)
    if connection.dialect.name == "postgresql":
        # One statement over arrays, one column each: executemany costs a round of
        # bind and execute per row inside PostgreSQL. xmax is 0 on a row just inserted.
        columns = list(zip(*rows, strict=True))
        sql = UPSERT_USERS.format(values=UNNEST_USERS) + " RETURNING id, xmax = 0 AS inserted"
        found = await driver.fetch(sql, *columns[:6], rows[0][6])
        return {row["id"] for row in found if row["inserted"]}
    values = "VALUES (" + ", ".join("?" for _ in USER_COLUMNS) + ")"
    await driver.executemany(UPSERT_USERS.format(values=values), rows)
    return None


async def _insert(
    connection: AsyncConnection, table: Table, columns: Sequence[str], rows: list[Row]
) -> None:
    if not rows:
        return
    driver = await writing_driver(connection)
    if connection.dialect.name == "postgresql":
        await driver.copy_records_to_table(table.name, records=rows, columns=list(columns))
    else:
        placeholders = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
        await driver.executemany(sql, rows)
