"""How the queues are doing: open tickets per destination with their oldest and median
age in working hours, and tickets opened and closed per day.

A working hour is one of 09–17 on a Swedish working day: the weekdays and holiday
calendar of the rules' [phone] section (the `holidays` package, with Christmas Eve and
New Year's Eve), but the office day rather than the phone lines' 09–12, since tickets
are worked all day.
"""

import statistics
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from routing.decision.clock import is_working_day
from routing.decision.rules import RuleSet
from routing.ticketing.models import Ticket, TicketEvent, TicketStatus

OFFICE_OPENS, OFFICE_CLOSES = time(9), time(17)
HOURS_PER_DAY = 8
OPEN = (TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.FORWARDED)
DAYS = 30


@dataclass(frozen=True)
class Clock:
    """Working hours by the rules' calendar, from the composition root's `now`."""

    rules: RuleSet
    stale_after_days: int = 2

    def working_hours(self, start: datetime, end: datetime) -> float:
        tz = self.rules.timezone
        start, end = start.astimezone(tz), end.astimezone(tz)
        seconds, day = 0.0, start.date()
        while day <= end.date():
            if is_working_day(day, self.rules.phone):
                opens = datetime.combine(day, OFFICE_OPENS, tzinfo=tz)
                closes = datetime.combine(day, OFFICE_CLOSES, tzinfo=tz)
                seconds += max(0.0, (min(end, closes) - max(start, opens)).total_seconds())
            day += timedelta(days=1)
        return seconds / 3600

    def is_stale(self, ticket: Ticket, now: datetime) -> bool:
        """Open and older than the configured number of working days."""
        age = self.working_hours(ticket.created_at, now)
        return ticket.status in OPEN and age > self.stale_after_days * HOURS_PER_DAY


def age_label(hours: float) -> str:
    """'3 tim', '2 d 4 tim' (working days of 8 hours)."""
    days, rest = divmod(int(hours), HOURS_PER_DAY)
    return f"{days} d {rest} tim" if days else f"{rest} tim"


async def queue_stats(
    *,
    session: AsyncSession,
    clock: Clock,
    now: datetime,
    destinations: Collection[str] | None = None,
) -> dict[str, Any]:
    """Of the `destinations`' queues only (None: every queue)."""
    query = select(Ticket.destination, Ticket.created_at).where(col(Ticket.status).in_(OPEN))
    rows = (await session.exec(query.where(within(destinations)))).all()
    ages: dict[str, list[float]] = {}
    for destination, created_at in rows:
        ages.setdefault(destination, []).append(clock.working_hours(created_at, now))
    queues = {
        destination: {
            "open": len(hours),
            "oldest_working_hours": round(max(hours), 1),
            "median_working_hours": round(statistics.median(hours), 1),
            "stale": sum(h > clock.stale_after_days * HOURS_PER_DAY for h in hours),
        }
        for destination, hours in sorted(ages.items())
    }
    return {
        "stale_after_working_days": clock.stale_after_days,
        "queues": queues,
        "days": await per_day(session, clock, now, destinations),
    }


def within(destinations: Collection[str] | None) -> ColumnElement[bool]:
    """The tickets of `destinations` (None: every ticket)."""
    return true() if destinations is None else col(Ticket.destination).in_(destinations)


async def per_day(
    session: AsyncSession, clock: Clock, now: datetime, destinations: Collection[str] | None
) -> list[dict[str, Any]]:
    """Opened and closed per Swedish calendar day, the last DAYS days, oldest first."""
    tz = clock.rules.timezone
    today = now.astimezone(tz).date()
    first = today - timedelta(days=DAYS - 1)
    since = datetime.combine(first, time(0), tzinfo=tz)
    opened_query = select(Ticket.created_at).where(Ticket.created_at >= since)
    opened = (await session.exec(opened_query.where(within(destinations)))).all()
    # Closed in a queue: where the ticket lies now, since a closed ticket moves no more.
    status_query = (
        select(TicketEvent)
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(TicketEvent.action == "status", TicketEvent.at >= since)
    )
    statuses = await session.exec(status_query.where(within(destinations)))
    closed = [e.at for e in statuses.all() if e.detail.get("to") == TicketStatus.CLOSED]
    counts: dict[date, list[int]] = {first + timedelta(days=n): [0, 0] for n in range(DAYS)}
    for index, moments in enumerate((opened, closed)):
        for at in moments:
            counts.setdefault(at.astimezone(tz).date(), [0, 0])[index] += 1
    return [
        {"date": day.isoformat(), "opened": both[0], "closed": both[1]}
        for day, both in sorted(counts.items())
        if first <= day <= today
    ]
