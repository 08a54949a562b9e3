"""The daily digest's steps: for users with daily delivery, one email listing what
their held items (OutboxKind.DIGEST_ITEM, status held) tell, grouped by event type and
compensation type. The digest rows themselves are made by notifier.outbox.digest_rows.

The row is claimed by the ordinary sender, and `DigestSteps.prepare` renders it from the
held items *at send time*: each item at the grant the user holds then, so a grant revoked
since the event removes the item and a `summary` grant never shows the person. Nothing
left to show: the digest is cancelled, no email. The items a digest shows are those held
since before its cutoff (the row's created_at); they are carried by the digest
(Prepared.carried), so the sender records them sent in the transaction that records the
digest sent: an item is never shown in two digests.
"""

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import EVENT_TYPES, PermissionLevel
from notifier.channels.base import PermanentDeliveryError
from notifier.kinds import Prepared
from notifier.kinds.rendering import Email, PreferencesUrl, Renderer, visible_context
from notifier.outbox.events import Event, parse_payload
from notifier.outbox.models import (
    Claimed,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    ProcessedEvent,
)
from notifier.outbox.record import target
from subscriptions.matching import Candidate, recipients
from subscriptions.models import PermissionGrant, User

log = logging.getLogger(__name__)
ALL_TYPES = "Alla ersättningar"  # an announcement that names no compensation type


@dataclass(frozen=True, slots=True)
class Item:
    event: Event
    level: PermissionLevel | None


class DigestSteps:
    """Renders each claimed digest from its user's held items, as things stand now."""

    def __init__(self, renderer: Renderer, preferences_url: PreferencesUrl, zone: ZoneInfo) -> None:
        self._renderer = renderer
        self._preferences_url = preferences_url
        self._zone = zone  # NOTIFIER_DIGEST_ZONE: the day a digest tells of is local there

    async def prepare(self, session: AsyncSession, rows: list[Claimed], prepared: Prepared) -> None:
        for row in rows:
            user = await session.get(User, row.user_id or "")
            if user is None:
                row.status = OutboxStatus.CANCELLED
                row.last_error = "the user was deleted before the digest was sent"
                continue
            items = await self._visible(session, row, user)
            if not items:
                row.status = OutboxStatus.CANCELLED
                row.last_error = "nothing left to tell when the digest was due"
                continue
            row.recipient = user.email
            try:
                self._fill(row, [item for _, item in items])
            except Exception as exc:
                log.exception("cannot render digest %s", row.message_id)
                prepared.failures[row.id] = PermanentDeliveryError(f"cannot render: {exc!r}"[:500])
                continue
            prepared.carried[row.id] = [item_id for item_id, _ in items]

    async def after_delivery(self, session: AsyncSession, rows: list[Claimed]) -> None:
        return None  # its items were recorded sent with it (Prepared.carried)

    async def _visible(
        self, session: AsyncSession, row: Claimed, user: User
    ) -> list[tuple[int, Item]]:
        """The held items of this digest the user may still see, each at today's grant;
        the others are cancelled (in the claim's transaction)."""
        held = (
            await session.exec(
                select(OutboxMessage, ProcessedEvent.payload)
                .join(ProcessedEvent, col(ProcessedEvent.event_id) == col(OutboxMessage.event_id))
                .where(col(OutboxMessage.kind) == OutboxKind.DIGEST_ITEM)
                .where(col(OutboxMessage.status) == OutboxStatus.HELD)
                .where(col(OutboxMessage.user_id) == user.id)
                .where(col(OutboxMessage.created_at) <= row.created_at)
                .order_by(col(OutboxMessage.id))
            )
        ).all()
        grants = await _grants(session, user.id)
        visible = []
        for item, payload in held:
            assert item.id is not None
            event = parse_payload(dict(payload))
            allowed = _now_allowed(event, user, grants)
            if allowed is None:
                item.status = OutboxStatus.CANCELLED
                item.last_error = "no grant for it any more when the digest was sent"
            else:
                visible.append((item.id, Item(event, allowed[0])))
        return visible

    def _fill(self, row: Claimed, items: list[Item]) -> None:
        day = row.created_at.astimezone(self._zone).date()
        email = render_digest(
            self._renderer, items, day=day, preferences_url=self._preferences_url(row.user_id or "")
        )
        row.subject, row.body_text, row.body_html = email.subject, email.text, email.html
        row.headers = row.headers | email.headers


def render_digest(
    renderer: Renderer, items: list[Item], *, day: date, preferences_url: str
) -> Email:
    """One user's digest of `items`, each already at the level it may be shown at."""
    env = renderer.env
    context = {
        "groups": group(items),
        "count": len(items),
        "day": day,
        **renderer.common(),
        "preferences_url": preferences_url,
    }
    return Email(
        subject=" ".join(env.get_template("digest.subject.txt").render(context).split()),
        text=env.get_template("digest.txt").render(context),
        html=env.get_template("digest.html").render(context),
        headers={
            # RFC 8058: a one-click POST to the page turns every notification off.
            "List-Unsubscribe": f"<{preferences_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


async def _grants(session: AsyncSession, user_id: str) -> dict[str, PermissionLevel]:
    found = await session.exec(
        select(PermissionGrant.compensation_type, PermissionGrant.level).where(
            col(PermissionGrant.user_id) == user_id
        )
    )
    return {ctype: PermissionLevel(level) for ctype, level in found}


def _now_allowed(
    event: Event, user: User, grants: dict[str, PermissionLevel]
) -> tuple[PermissionLevel | None] | None:
    """The matching rule again, with today's grants and organisation: None when the event
    would no longer reach the user, else (the level to render at,)."""
    tgt = target(event)
    candidate = Candidate(
        user.id, user.email, user.name, (user.org_kind, user.org_code), {tgt.event_type}, grants
    )
    found = recipients(tgt, [candidate])
    return (found[0].level,) if found else None


def group(items: list[Item]) -> list[dict[str, Any]]:
    """By event type (in EVENT_TYPES' order), then compensation type (an announcement's:
    the types it concerns); oldest first."""
    order = {event_type: index for index, event_type in enumerate(EVENT_TYPES)}
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for item in sorted(items, key=lambda i: i.event.occurred_at):
        context = visible_context(item.event, item.level)
        concerns = context["compensation"] or ", ".join(context["concerns"]) or ALL_TYPES
        key = (order[item.event.event_type], concerns)
        groups.setdefault(key, []).append(context)
    return [
        {"label": shown[0]["event_label"], "compensation": compensation, "entries": shown}
        for (_, compensation), shown in sorted(groups.items())
    ]
