"""Who gets what: a pure decision over plain candidates, and the one query that fetches the
candidates for a whole batch of events.

The rules (DOMAIN.md, CONTRACTS §1): a user hears of an event of their own organisation,
of an event type they subscribed to and left enabled, and of a compensation type they hold
a grant for, as the grants stand when the event is matched. An announcement goes to every
subscriber (of the organisation, or of all organisations when it names none), or, when it
names compensation types, only to those holding a grant for one of them.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CTE, Integer, Select, String, and_, bindparam, column, func, select, values
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.selectable import FromClause, TableValuedAlias
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import ANNOUNCEMENT, PermissionLevel
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

    by_key: dict[Key, list[Recipient]] = field(default_factory=dict)

    def recipients(self, target: Target) -> list[Recipient]:
        wanted = keys(target)
        if len(wanted) == 1:  # every event but an announcement naming several types
            return list(self.by_key.get(wanted[0], ()))
        # Each holder once, at the highest level of the named types they hold (`_highest`).
        found: dict[str, Recipient] = {}
        for key in wanted:
            for recipient in self.by_key.get(key, ()):
                held = found.get(recipient.user_id)
                if held is None or recipient.level == PermissionLevel.FULL:
                    found[recipient.user_id] = recipient
        return sorted(found.values(), key=_user_id)


async def match(*, session: AsyncSession, targets: Sequence[Target]) -> list[list[Recipient]]:
    """Each target's recipients, as `recipients` would choose them from every user: the
    lookup is that rule worked out ahead for each key (subscriptions.lookup), and
    tests/test_lookup_agrees.py holds the two to the same answer after any writes."""
    pools = await load_pools(session=session, keys={k for t in targets for k in keys(t)})
    return [pools.recipients(t) for t in targets]


async def load_pools(*, session: AsyncSession, keys: Iterable[Key]) -> Pools:
    """The recipients of a batch's lookup keys, in at most two queries (keys with an
    organisation, and announcements to every one); a payment run needs one.

    Each query joins its keys to the recipient lookup (subscriptions.lookup), which holds
    all a recipient's row needs. On PostgreSQL the keys are four bound arrays (unnest), so
    the statement is the same for every batch and compiled once; one event's lookup is one
    index-only range scan of recipient_keys_pkey (org_kind, org_code, event_type,
    compensation_type, user_id, INCLUDE the rest) that returns exactly the recipients: its
    cost follows their number, not the organisation's size. An announcement to every
    organisation scans ix_recipient_keys_everywhere (event_type, compensation_type) instead.
    """
    scopes: dict[bool, list[Key]] = {}
    for key in keys:
        scopes.setdefault(key[0] is not None, []).append(key)
    pools = Pools()
    connection = await session.connection()
    postgres = connection.dialect.name == "postgresql"
    for scoped, group in sorted(scopes.items()):
        query, parameters = _query(group, scoped, postgres)
        _collect((await connection.execute(query, parameters)).all(), group, pools)
    for found in pools.by_key.values():
        found.sort(key=_user_id)  # in index order already, where the plan reads it so
    return pools


def _query(group: list[Key], scoped: bool, postgres: bool) -> tuple[Select[Any], dict[str, Any]]:
    """Each row is a recipient of one key, named by its position in `group` (from 1)."""
    names = (["kind", "code"] if scoped else []) + ["event_type", "ctype"]
    data = [
        ((*org, et) if scoped and org else (et,)) + (NO_GRANT if ctype is None else ctype,)
        for org, et, ctype in group
    ]
    key: FromClause
    if postgres:
        key, parameters = _key_arrays(names, data)
    else:
        key, parameters = _key_values(names, data), {}
    found = KEYS.c
    on_key = and_(found.event_type == key.c.event_type, found.compensation_type == key.c.ctype)
    if scoped:
        on_key = and_(found.org_kind == key.c.kind, found.org_code == key.c.code, on_key)
    query = select(
        key.c.position, found.user_id, found.email, found.name, found.delivery, found.level
    ).select_from(key.join(KEYS, on_key))
    return query, parameters


def _key_arrays(
    names: list[str], data: list[tuple[str, ...]]
) -> tuple[TableValuedAlias, dict[str, Any]]:
    """The keys as unnest() of one bound array per column: one statement for every batch."""
    arrays = [bindparam(f"key_{name}", type_=ARRAY(String)) for name in names]
    key = func.unnest(*arrays).table_valued(*names, with_ordinality="position")
    columns = list(zip(*data, strict=True)) if data else [() for _ in names]
    parameters = {f"key_{name}": list(values) for name, values in zip(names, columns, strict=True)}
    return key.render_derived(name="match_keys"), parameters


def _key_values(names: list[str], data: list[tuple[str, ...]]) -> CTE:
    """The keys as a VALUES list (SQLite has no arrays)."""
    columns = [column(name, String) for name in names] + [column("position", Integer)]
    numbered = [(*row, position) for position, row in enumerate(data, 1)]
    return values(*columns, name="match_keys").data(numbered).cte("match_keys")


def _collect(rows: Iterable[Sequence[Any]], group: list[Key], pools: Pools) -> None:
    found = [pools.by_key.setdefault(key, []) for key in group]
    for position, user_id, email, name, delivery, level in rows:
        # The row is of an enabled subscription, under the user's own organisation.
        recipient = Recipient(user_id, email, name, LEVELS.get(level), delivery == DAILY)
        found[position - 1].append(recipient)


def _user_id(recipient: Recipient) -> str:
    return recipient.user_id
