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

from sqlalchemy import CTE, Select, String, and_, column, select, values
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
    """The candidates found for each lookup key: only users who match that key."""

    by_key: dict[Key, list[Candidate]] = field(default_factory=dict)

    def candidates(self, target: Target) -> list[Candidate]:
        wanted = keys(target)
        if len(wanted) == 1:  # every event but an announcement naming several types
            return self.by_key.get(wanted[0], [])
        found: dict[str, Candidate] = {}
        for key in wanted:
            for candidate in self.by_key.get(key, ()):
                found[candidate.user_id] = candidate
        return list(found.values())


async def match(*, session: AsyncSession, targets: Sequence[Target]) -> list[list[Recipient]]:
    """Each target's recipients: the database returns only the users who will get the
    email, and `recipients` still decides (and gives each its level)."""
    pools = await load_pools(session=session, keys={k for t in targets for k in keys(t)})
    return [recipients(t, pools.candidates(t)) for t in targets]


async def load_pools(*, session: AsyncSession, keys: Iterable[Key]) -> Pools:
    """The candidates for a batch's lookup keys, in at most two queries (keys with an
    organisation, and announcements to every one); a payment run needs one.

    Each query joins its keys (a VALUES list) to the recipient lookup (subscriptions.lookup),
    which holds all a recipient's row needs. On PostgreSQL one event's lookup is one
    index-only range scan of recipient_keys_pkey (org_kind, org_code, event_type,
    compensation_type, user_id, INCLUDE the rest) that returns exactly the recipients: its
    cost follows their number, not the organisation's size. An announcement to every
    organisation scans ix_recipient_keys_everywhere (event_type, compensation_type) instead.
    """
    scopes: dict[bool, list[Key]] = {}
    for key in keys:
        scopes.setdefault(key[0] is not None, []).append(key)
    pools = Pools()
    users: dict[str, Candidate] = {}
    connection = await session.connection()
    for scoped, group in sorted(scopes.items()):
        rows = await connection.execute(_query(sorted(group, key=str), scoped))
        _collect(rows, scoped, users, pools)
    return pools


def _query(group: list[Key], scoped: bool) -> Select[Any]:
    key, found = _key_list(group, scoped), KEYS.c
    on_key = and_(found.event_type == key.c.event_type, found.compensation_type == key.c.ctype)
    if scoped:
        on_key = and_(found.org_kind == key.c.kind, found.org_code == key.c.code, on_key)
    return (
        select(
            found.user_id,
            found.email,
            found.name,
            found.org_kind,
            found.org_code,
            found.delivery,
            found.event_type,
            found.compensation_type,
            found.level,
        )
        .select_from(key)
        .join(KEYS, on_key)
    )


def _key_list(group: list[Key], scoped: bool) -> CTE:
    """The keys as a VALUES list, with only the columns this shape compares."""
    names = (["kind", "code"] if scoped else []) + ["event_type", "ctype"]
    data = [
        ((*org, et) if scoped and org else (et,)) + (NO_GRANT if ctype is None else ctype,)
        for org, et, ctype in group
    ]
    columns = [column(name, String) for name in names]
    return values(*columns, name="match_keys").data(data).cte("match_keys")


def _collect(
    rows: Iterable[Sequence[Any]], scoped: bool, users: dict[str, Candidate], pools: Pools
) -> None:
    for user_id, email, name, kind, code, delivery, event_type, ctype, level in rows:
        candidate = users.get(user_id)
        if candidate is None:
            # A row is under the user's own organisation: `recipients` checks it again.
            candidate = users[user_id] = Candidate(
                user_id, email, name, (kind, code), daily=delivery == DAILY
            )
        candidate.subscribed.add(event_type)  # the lookup holds enabled ones only
        grant = None if ctype == NO_GRANT else ctype
        if grant is not None:
            candidate.grants[grant] = LEVELS[level]
        key = ((kind, code) if scoped else None, event_type, grant)
        pools.by_key.setdefault(key, []).append(candidate)
