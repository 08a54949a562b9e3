"""Who gets what: a pure decision over plain candidates, and the one query that fetches the
candidates for a whole batch of events.

The rules (DOMAIN.md, docs/contracts.md §1): a user hears of an event of their own organisation,
of an event type they subscribed to and left enabled, and of a compensation type they hold
a grant for, as the grants stand when the event is matched. An announcement goes to every
subscriber (of the organisation, or of all organisations when it names none), or, when it
names compensation types, only to those holding a grant for one of them.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, String, and_, column, select, values
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import ANNOUNCEMENT, PermissionLevel
from domain.drivers import driver
from subscriptions.models import NO_GRANT, Delivery, RecipientKey

OrgKey = tuple[str, str]
# The Core table: the lookup selects more columns than sqlmodel's select takes.
KEYS = RecipientKey.metadata.tables[RecipientKey.__tablename__]
LEVELS = {level.value: level for level in PermissionLevel}  # a dict is faster than the enum
DAILY = Delivery.DAILY.value


@dataclass(frozen=True, slots=True)
class Target:
    """What matching needs of an event; the caller builds it from its own event model."""

    event_type: str
    organisation: OrgKey | None
    compensation_type: str | None = None
    # Only for announcements: limits them to holders of these grants; empty: everyone.
    announcement_types: tuple[str, ...] = ()


@dataclass(slots=True)
class Candidate:
    user_id: str
    email: str
    name: str
    organisation: OrgKey
    subscribed: set[str] = field(default_factory=set)  # enabled subscriptions only
    grants: dict[str, PermissionLevel] = field(default_factory=dict)
    daily: bool = False  # takes the day's notifications as one digest


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: str
    email: str
    name: str
    # The grant in force when matched; None for an announcement that needs no grant.
    level: PermissionLevel | None
    daily: bool = False  # held for the user's digest instead of sent at once


def recipients(target: Target, candidates: Iterable[Candidate]) -> list[Recipient]:
    """The users who get an email for `target`, in a stable order."""
    found = []
    for candidate in candidates:
        if target.event_type not in candidate.subscribed:
            continue
        if target.organisation is not None and candidate.organisation != target.organisation:
            continue
        allowed, level = _grant(target, candidate)
        if allowed:
            found.append(
                Recipient(
                    candidate.user_id, candidate.email, candidate.name, level, candidate.daily
                )
            )
    return sorted(found, key=lambda r: r.user_id)


def _grant(target: Target, candidate: Candidate) -> tuple[bool, PermissionLevel | None]:
    if target.event_type == ANNOUNCEMENT:
        if not target.announcement_types:
            return True, None
        levels = [candidate.grants[t] for t in target.announcement_types if t in candidate.grants]
        return bool(levels), _highest(levels)
    if target.compensation_type is None:
        return False, None  # only announcements may omit it
    level = candidate.grants.get(target.compensation_type)
    return level is not None, level


def _highest(levels: Sequence[PermissionLevel]) -> PermissionLevel | None:
    if not levels:
        return None
    return PermissionLevel.FULL if PermissionLevel.FULL in levels else PermissionLevel.SUMMARY


Key = tuple[OrgKey | None, str, str | None]


class Row(NamedTuple):
    """A recipient as the lookup returns it, with the position of its key (from 1). A
    tuple, not an object with methods: building a Recipient per row cost more than the
    database's part of the lookup."""

    user_id: str
    email: str
    name: str
    level: str | None
    delivery: str
    position: int


FULL = PermissionLevel.FULL.value
_BY_USER = attrgetter("user_id")


def recipient(row: Row) -> Recipient:
    return Recipient(
        row.user_id, row.email, row.name, LEVELS.get(row.level or ""), row.delivery == DAILY
    )


def keys(target: Target) -> list[Key]:
    """The lookups a target needs: (organisation or every one, event type, the grant a
    recipient must hold or None when none is needed). An announcement naming types needs
    a grant of any one of them; an event without compensation type needs nothing looked up,
    since only announcements may omit it."""
    if target.event_type == ANNOUNCEMENT:
        if not target.announcement_types:
            return [(target.organisation, ANNOUNCEMENT, None)]
        return [(target.organisation, ANNOUNCEMENT, t) for t in target.announcement_types]
    if target.compensation_type is None:
        return []
    return [(target.organisation, target.event_type, target.compensation_type)]


@dataclass(slots=True)
class Pools:
    """The recipients found for each lookup key, by user id, each with that key's level."""

    by_key: dict[Key, list[Row]] = field(default_factory=dict)

    def rows(self, target: Target) -> list[Row]:
        wanted = keys(target)
        if len(wanted) == 1:  # every event but an announcement naming several types
            return list(self.by_key.get(wanted[0], ()))
        # Each holder once, at the highest level of the named types they hold (`_highest`).
        found: dict[str, Row] = {}
        for key in wanted:
            for row in self.by_key.get(key, ()):
                if row.user_id not in found or row.level == FULL:
                    found[row.user_id] = row
        return sorted(found.values(), key=_BY_USER)

    def recipients(self, target: Target) -> list[Recipient]:
        return [recipient(row) for row in self.rows(target)]


async def match(*, session: AsyncSession, targets: Sequence[Target]) -> list[list[Recipient]]:
    """Each target's recipients, as `recipients` would choose them from every user: the
    lookup is that rule worked out ahead for each key (subscriptions.lookup), and
    tests/test_lookup_agrees.py holds the two to the same answer after any writes."""
    found = await match_rows(session=session, targets=targets)
    return [[recipient(row) for row in rows] for rows in found]


async def match_rows(*, session: AsyncSession, targets: Sequence[Target]) -> list[list[Row]]:
    """`match` as rows (see Row), for the consumer's hot path: the same recipients."""
    pools = await load_pools(session=session, keys={k for t in targets for k in keys(t)})
    return [pools.rows(t) for t in targets]


async def load_pools(*, session: AsyncSession, keys: Iterable[Key]) -> Pools:
    """The recipients of a batch's lookup keys, in at most two queries (keys with an
    organisation, and announcements to every one); a payment run needs one.

    Each query joins its keys to the recipient lookup (subscriptions.lookup), which holds
    all a recipient's row needs. On PostgreSQL it goes straight to asyncpg (SQLAlchemy's
    statement and result handling cost ten times the database's part): the keys are bound
    arrays (unnest), so the statement is the same for every batch, prepared once per
    connection by asyncpg's statement cache. One event's lookup is one index-only range
    scan of recipient_keys_pkey (org_kind, org_code, event_type, compensation_type,
    user_id, INCLUDE the rest) that returns exactly the recipients: its cost follows their
    number, not the organisation's size. An announcement to every organisation scans
    ix_recipient_keys_everywhere (event_type, compensation_type) instead.
    """
    scopes: dict[bool, list[Key]] = {}
    for key in keys:
        scopes.setdefault(key[0] is not None, []).append(key)
    pools = Pools()
    connection = await session.connection()
    for scoped, group in sorted(scopes.items()):
        _collect(await _fetch(connection, _key_data(group, scoped), scoped), group, pools)
    for found in pools.by_key.values():
        found.sort(key=_BY_USER)  # in index order already, where the plan reads it so
    return pools


def _key_data(group: list[Key], scoped: bool) -> list[tuple[str, ...]]:
    """Each key as the query's columns: (kind, code,) event type, compensation type."""
    return [
        ((*org, et) if scoped and org else (et,)) + (NO_GRANT if ctype is None else ctype,)
        for org, et, ctype in group
    ]


async def _fetch(connection: AsyncConnection, data: list[tuple[str, ...]], scoped: bool) -> Any:
    """Each row is a recipient of one key, named by its position in `data` (from 1)."""
    if connection.dialect.name != "postgresql":
        return (await connection.execute(_values_query(data, scoped))).all()
    arrays = [list(column) for column in zip(*data, strict=True)]
    return await (await driver(connection)).fetch(SCOPED_SQL if scoped else EVERYWHERE_SQL, *arrays)


_JOIN_KEY = "k.event_type = m.event_type AND k.compensation_type = m.ctype"
SCOPED_SQL = f"""SELECT k.user_id, k.email, k.name, k.level, k.delivery, m.position
FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[])
    WITH ORDINALITY AS m (kind, code, event_type, ctype, position)
JOIN {KEYS.name} AS k ON k.org_kind = m.kind AND k.org_code = m.code AND {_JOIN_KEY}"""
EVERYWHERE_SQL = f"""SELECT k.user_id, k.email, k.name, k.level, k.delivery, m.position
FROM unnest($1::varchar[], $2::varchar[]) WITH ORDINALITY AS m (event_type, ctype, position)
JOIN {KEYS.name} AS k ON {_JOIN_KEY}"""


def _values_query(data: list[tuple[str, ...]], scoped: bool) -> Select[Any]:
    """The generic path (SQLite has no arrays): the keys as a VALUES list."""
    names = (["kind", "code"] if scoped else []) + ["event_type", "ctype"]
    columns = [column(name, String) for name in names] + [column("position", Integer)]
    numbered = [(*row, position) for position, row in enumerate(data, 1)]
    key = values(*columns, name="match_keys").data(numbered).cte("match_keys")
    found = KEYS.c
    on_key = and_(found.event_type == key.c.event_type, found.compensation_type == key.c.ctype)
    if scoped:
        on_key = and_(found.org_kind == key.c.kind, found.org_code == key.c.code, on_key)
    return select(
        found.user_id, found.email, found.name, found.level, found.delivery, key.c.position
    ).select_from(key.join(KEYS, on_key))


def _collect(rows: Iterable[Sequence[Any]], group: list[Key], pools: Pools) -> None:
    # Each row is of an enabled subscription, under the user's own organisation.
    found = [pools.by_key.setdefault(key, []) for key in group]
    for fields in rows:
        row = Row._make(fields)
        found[row.position - 1].append(row)
