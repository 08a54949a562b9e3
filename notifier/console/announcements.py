"""Announcements ("Aktuellt i e-tjänsten") that operators write: who they reach, and
sending them as `service.announcement` events on the exchange, so that the pipeline,
dedupe and audit are the e-service's own announcements'.

One event per organisation targeted (none named: one event for everyone), each with an
id derived from the announcement's and the organisation's: a send repeated after a crash
publishes the same ids again, and the consumer's dedupe keeps each email once."""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.compensation import ANNOUNCEMENT, PermissionLevel
from domain.organisations import OrganisationKind, organisations
from notifier.console.models import Announcement, AnnouncementStatus
from notifier.workers import sample
from notifier.workers.broker import Topology
from subscriptions.matching import Target, match

log = logging.getLogger(__name__)
NAMESPACE = uuid.UUID("5b0f3c52-6f0e-4e55-9d7e-6b1d3f2a9c41")  # announcement event ids

Publish = Callable[[list[dict[str, Any]]], Awaitable[None]]


class AlreadySent(ValueError):
    """The announcement has gone (or was cancelled): it cannot be cancelled now."""


def organisations_of(announcement: Announcement) -> list[tuple[str, str]] | None:
    """The organisations targeted; None: every organisation, with no organisation named."""
    if announcement.organisations:
        return [(o["kind"], o["code"]) for o in announcement.organisations]
    if announcement.organisation_kind:
        kind = OrganisationKind(announcement.organisation_kind)
        return [(org.kind.value, org.code) for org in organisations().values() if org.kind == kind]
    return None


def targets(announcement: Announcement) -> list[Target]:
    kinds = tuple(announcement.compensation_types)
    orgs = organisations_of(announcement)
    if orgs is None:
        return [Target(ANNOUNCEMENT, None, announcement_types=kinds)]
    return [Target(ANNOUNCEMENT, org, announcement_types=kinds) for org in orgs]


async def count_recipients(*, session: AsyncSession, announcement: Announcement) -> dict[str, int]:
    """How many get it, per level. One that names no compensation type needs no grant;
    it shows no person either, so its readers are counted as `summary` readers."""
    counts = {PermissionLevel.FULL.value: 0, PermissionLevel.SUMMARY.value: 0}
    for found in await match(session=session, targets=targets(announcement)):
        for recipient in found:
            level = recipient.level or PermissionLevel.SUMMARY
            counts[level.value] += 1
    return counts


def events(announcement: Announcement, now: datetime) -> list[dict[str, Any]]:
    """The events that send it, as the e-service would publish them (docs/contracts.md §1)."""
    body = {
        "title": announcement.title,
        "body": announcement.body,
        "compensation_types": announcement.compensation_types,
    }
    named = organisations_of(announcement)
    orgs: list[tuple[str, str] | None] = [None] if named is None else [*named]
    found = []
    for org in orgs:
        event: dict[str, Any] = {
            "schema_version": 1,
            "event_id": str(uuid.uuid5(NAMESPACE, f"{announcement.id}:{org}")),
            "event_type": ANNOUNCEMENT,
            "occurred_at": now.isoformat(),
            "announcement": body,
        }
        if org:
            event["organisation"] = {"kind": org[0], "code": org[1]}
        found.append(event)
    return found


async def send(
    *, session: AsyncSession, announcement: Announcement, publish: Publish, now: datetime
) -> bool:
    """Mark it sent, if it is still scheduled, and publish it; the caller commits after.
    False: another process sent or someone cancelled it first. A failed publish raises,
    and the caller's rollback leaves it scheduled."""
    claimed = await session.exec(
        update(Announcement)
        .where(col(Announcement.id) == announcement.id)
        .where(col(Announcement.status) == AnnouncementStatus.SCHEDULED)
        .values(status=AnnouncementStatus.SENT, sent_at=now)
    )
    if claimed.rowcount != 1:
        return False
    await publish(events(announcement, now))
    return True


async def send_due(*, sessions: Callable[[], AsyncSession], publish: Publish, now: datetime) -> int:
    """Send every scheduled announcement whose time has come; how many were sent."""
    async with sessions() as session:
        query = select(Announcement.id).where(
            col(Announcement.status) == AnnouncementStatus.SCHEDULED,
            col(Announcement.send_at) <= now,
        )
        due = list((await session.exec(query)).all())
    sent = 0
    for announcement_id in due:
        async with sessions() as session:
            announcement = await session.get(Announcement, announcement_id)
            if announcement is None:
                continue
            if await send(session=session, announcement=announcement, publish=publish, now=now):
                await session.commit()
                sent += 1
    return sent


async def cancel(*, session: AsyncSession, announcement: Announcement) -> None:
    """Only while still scheduled, checked in the UPDATE: a scheduler sending it at this
    moment wins, and this raises."""
    cancelled = await session.exec(
        update(Announcement)
        .where(col(Announcement.id) == announcement.id)
        .where(col(Announcement.status) == AnnouncementStatus.SCHEDULED)
        .values(status=AnnouncementStatus.CANCELLED)
    )
    if cancelled.rowcount != 1:
        raise AlreadySent(announcement.status)
    await session.refresh(announcement)


async def listed(*, session: AsyncSession, limit: int = 200) -> list[Announcement]:
    query = select(Announcement).order_by(col(Announcement.created_at).desc())
    return list((await session.exec(query.limit(limit))).all())


def publisher(url: str, topology: Topology) -> Publish:
    """Publishes on the events exchange, confirmed, as the e-service does."""

    async def publish_events(found: list[dict[str, Any]]) -> None:
        await sample.publish(url, topology, found)

    return publish_events


async def run_scheduler(
    *,
    sessions: Callable[[], AsyncSession],
    publish: Publish,
    clock: Callable[[], datetime],
    interval: float = 15.0,
) -> None:
    """Sends due announcements every `interval` seconds, by the composition root's clock
    (so that tests can move it); a failure is logged and tried again next round."""
    while True:
        try:
            await send_due(sessions=sessions, publish=publish, now=clock())
        except Exception as exc:  # the broker away: the announcement stays scheduled
            log.warning("announcements not sent: %s", type(exc).__name__)
        await asyncio.sleep(interval)
