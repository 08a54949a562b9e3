"""How the queues are doing: open tickets per destination with their oldest and median
age in working hours, and tickets opened and closed per day; what the desk promised (the
first answer "oftast inom två arbetsdagar", the receipt's words: `stale_after_days`) and
how often staff re-routed an email ticket away from where its rule sent it.

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

from sqlalchemy import ColumnElement, func, true
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
        "answered_in_time": await answered_in_time(
            session=session, clock=clock, now=now, destinations=destinations
        ),
        "rerouted_email_by_rule": await rerouted_by_rule(
            session=session, destinations=destinations
        ),
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


def due_hours(clock: Clock) -> float:
    return float(clock.stale_after_days * HOURS_PER_DAY)


def time_left(clock: Clock, ticket: Ticket, now: datetime) -> float | None:
    """Working hours left to the promised first answer (negative: late); None when the
    ticket waits for nobody (answered, closed, deflected)."""
    if ticket.status not in OPEN:
        return None
    return round(due_hours(clock) - clock.working_hours(ticket.created_at, now), 1)


def left_label(hours: float) -> str:
    """'5 tim kvar', '1 d 2 tim kvar', '3 tim sen' (working days of 8 hours)."""
    days, rest = divmod(int(abs(hours)), HOURS_PER_DAY)
    span = f"{days} d {rest} tim" if days else f"{rest} tim"
    return f"{span} kvar" if hours >= 0 else f"{span} sen"


async def first_answers(session: AsyncSession, ids: list[str]) -> dict[str, datetime]:
    """Each ticket's first answer to the person (the desk's `answer`)."""
    rows = await session.exec(
        select(TicketEvent).where(
            col(TicketEvent.ticket_id).in_(ids), TicketEvent.action == "status"
        )
    )
    first: dict[str, datetime] = {}
    for event in rows.all():
        if event.detail.get("answer") and (
            event.ticket_id not in first or event.at < first[event.ticket_id]
        ):
            first[event.ticket_id] = event.at
    return first


async def answered_in_time(
    *,
    session: AsyncSession,
    clock: Clock,
    now: datetime,
    destinations: Collection[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per destination, of the last DAYS days' tickets that were answered or whose time ran
    out: how many were answered in time, and their share."""
    since = datetime.combine(
        now.astimezone(clock.rules.timezone).date() - timedelta(days=DAYS - 1),
        time(0),
        tzinfo=clock.rules.timezone,
    )
    query = select(Ticket).where(
        col(Ticket.created_at) >= since,
        Ticket.status != TicketStatus.DEFLECTED,
        within(destinations),
    )
    recent = list((await session.exec(query)).all())
    answers = await first_answers(session, [ticket.id for ticket in recent])
    counts: dict[str, list[int]] = {}
    for ticket in recent:
        answered = answers.get(ticket.id)
        took = clock.working_hours(ticket.created_at, answered or now)
        if answered is None and took <= due_hours(clock):
            continue  # still in time and not yet answered: not counted either way
        pair = counts.setdefault(ticket.destination, [0, 0])
        pair[0] += answered is not None and took <= due_hours(clock)
        pair[1] += 1
    return {
        destination: {"in_time": n, "counted": total, "share": round(n / total, 2)}
        for destination, (n, total) in sorted(counts.items())
    }


async def rerouted_by_rule(
    *, session: AsyncSession, destinations: Collection[str] | None = None
) -> dict[str, int]:
    """Email tickets staff re-routed, per the rule that first routed them: where the
    words table (or the rules) most need a look."""
    query = (
        select(Ticket.rule_id, func.count(func.distinct(Ticket.id)))
        .join(TicketEvent, col(TicketEvent.ticket_id) == col(Ticket.id))
        .where(Ticket.channel == "email", TicketEvent.action == "rerouted", within(destinations))
        .group_by(col(Ticket.rule_id))
    )
    return {rule: count for rule, count in (await session.exec(query)).all()}
