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

from sqlalchemy import ColumnElement, Row, and_, false, or_, select, tuple_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import ANNOUNCEMENT, PermissionLevel
from subscriptions.models import PermissionGrant, Subscription, User

OrgKey = tuple[str, str]


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


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: str
    email: str
    name: str
    # The grant in force when matched; None for an announcement that needs no grant.
    level: PermissionLevel | None


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
            found.append(Recipient(candidate.user_id, candidate.email, candidate.name, level))
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


def by_organisation(candidates: Iterable[Candidate]) -> dict[OrgKey, list[Candidate]]:
    """Candidates grouped by organisation, so a batch matches each event against only its
    own organisation's users."""
    grouped: dict[OrgKey, list[Candidate]] = {}
    for candidate in candidates:
        grouped.setdefault(candidate.organisation, []).append(candidate)
    return grouped


async def load_candidates(*, session: AsyncSession, targets: Sequence[Target]) -> list[Candidate]:
    """The candidates for a whole batch in one query.

    Users of the batch's organisations (or all, for an announcement to everyone) JOIN their
    enabled subscriptions of the batch's event types, LEFT JOIN their grants of the batch's
    compensation types (an announcement to everyone needs no grant). The indexes on
    users(org_kind, org_code), subscriptions(event_type, enabled) and the grants' primary
    key serve it.
    """
    if not targets:
        return []
    event_types = sorted({t.event_type for t in targets})
    types = sorted(
        {t.compensation_type for t in targets if t.compensation_type}
        | {c for t in targets for c in t.announcement_types}
    )
    query = (
        select(
            col(User.id),
            col(User.email),
            col(User.name),
            col(User.org_kind),
            col(User.org_code),
            col(Subscription.event_type),
            col(PermissionGrant.compensation_type),
            col(PermissionGrant.level),
        )
        .join(Subscription, col(Subscription.user_id) == col(User.id))
        .outerjoin(
            PermissionGrant,
            and_(
                col(PermissionGrant.user_id) == col(User.id),
                col(PermissionGrant.compensation_type).in_(types) if types else false(),
            ),
        )
        .where(col(Subscription.enabled).is_(True))
        .where(col(Subscription.event_type).in_(event_types))
        .where(_organisations(targets))
    )
    # Eight columns are more than sqlmodel's typed select()/exec() take: SQLAlchemy's
    # own, on the session's connection (the same transaction).
    connection = await session.connection()
    return _collect(await connection.execute(query))


def _organisations(targets: Sequence[Target]) -> ColumnElement[bool]:
    orgs = sorted({t.organisation for t in targets if t.organisation is not None})
    by_org = tuple_(col(User.org_kind), col(User.org_code)).in_(orgs) if orgs else false()
    if any(t.organisation is None for t in targets):
        # An announcement to every organisation: every subscriber to announcements.
        return or_(by_org, col(Subscription.event_type) == ANNOUNCEMENT)
    return by_org


def _collect(
    rows: Iterable[Row[str, str, str, str, str, str, str | None, str | None]],
) -> list[Candidate]:
    found: dict[str, Candidate] = {}
    for user_id, email, name, kind, code, event_type, ctype, level in rows:
        candidate = found.get(user_id)
        if candidate is None:
            candidate = found[user_id] = Candidate(user_id, email, name, (kind, code))
        candidate.subscribed.add(event_type)
        if ctype is not None and level is not None:
            candidate.grants[ctype] = PermissionLevel(level)
    return list(found.values())
