"""Why a user does or does not hear of an event: the matching rules one by one, each with
its verdict, for operators answering "why did I (not) get this email?"."""

from dataclasses import dataclass, field

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import ANNOUNCEMENT, COMPENSATION_TYPES, EVENT_TYPES, PermissionLevel
from subscriptions.matching import Target
from subscriptions.models import PermissionGrant, Subscription, User


@dataclass(frozen=True, slots=True)
class UserState:
    """Everything matching looks at for one user, disabled subscriptions included."""

    organisation: tuple[str, str]
    subscriptions: dict[str, bool]  # event type → enabled
    grants: dict[str, PermissionLevel] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Check:
    rule: str  # organisation, subscription, permission
    passed: bool
    detail: str  # Swedish, for the operator


def explain(target: Target, user: UserState) -> list[Check]:
    """Each rule of matching (subscriptions.matching.recipients) with its verdict."""
    return [_organisation(target, user), _subscription(target, user), _permission(target, user)]


def _organisation(target: Target, user: UserState) -> Check:
    if target.organisation is None:
        return Check("organisation", True, "Händelsen gäller alla organisationer.")
    same = target.organisation == user.organisation
    kind, code = target.organisation
    detail = f"Händelsen gäller {kind} {code}; användaren hör till {' '.join(user.organisation)}."
    return Check("organisation", same, detail)


def _subscription(target: Target, user: UserState) -> Check:
    label = EVENT_TYPES.get(target.event_type, target.event_type)
    enabled = user.subscriptions.get(target.event_type)
    if enabled is None:
        return Check("subscription", False, f"Användaren prenumererar inte på ”{label}”.")
    if not enabled:
        return Check("subscription", False, f"Prenumerationen på ”{label}” är avstängd.")
    return Check("subscription", True, f"Användaren prenumererar på ”{label}”.")


def _permission(target: Target, user: UserState) -> Check:
    if target.event_type == ANNOUNCEMENT and not target.announcement_types:
        return Check("permission", True, "Meddelandet gäller alla, oavsett behörighet.")
    wanted = target.announcement_types or (
        (target.compensation_type,) if target.compensation_type else ()
    )
    held = {t: user.grants[t] for t in wanted if t in user.grants}
    names = ", ".join(COMPENSATION_TYPES[t].name if t in COMPENSATION_TYPES else t for t in wanted)
    if not held:
        return Check("permission", False, f"Användaren saknar behörighet för {names}.")
    levels = ", ".join(f"{t}: {level}" for t, level in held.items())
    return Check("permission", True, f"Användaren har behörighet ({levels}).")


async def load_user_state(*, session: AsyncSession, user_id: str) -> UserState | None:
    user = await session.get(User, user_id)
    if user is None:
        return None
    subscriptions = await session.exec(select(Subscription).where(Subscription.user_id == user_id))
    grants = await session.exec(select(PermissionGrant).where(PermissionGrant.user_id == user_id))
    return UserState(
        organisation=(user.org_kind, user.org_code),
        subscriptions={s.event_type: s.enabled for s in subscriptions},
        grants={g.compensation_type: PermissionLevel(g.level) for g in grants},
    )
