"""Time in Sweden: when the phone lines are open, and whether a deadline has passed.

Pure functions of an aware datetime; the caller decides what "now" is.
"""

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from routing.decision.rules import PhoneHours

# Swedish holidays never run more than a few days in a row (Christmas to the weekend
# after); a fortnight is a generous bound that still catches an endless loop.
_SEARCH_DAYS = 14


@cache
def _holidays(country: str, categories: tuple[str, ...], year: int) -> frozenset[date]:
    # include_sundays=False: the package can list every Sunday as a Swedish holiday;
    # weekends are handled by the weekday list instead, so the two never disagree.
    calendar = holidays.country_holidays(
        country, years=year, categories=categories, include_sundays=False
    )
    return frozenset(calendar)


def is_working_day(day: date, hours: PhoneHours) -> bool:
    if day.isoweekday() not in hours.weekdays:
        return False
    return day not in _holidays(hours.holiday_country, hours.holiday_categories, day.year)


def phone_open(at: datetime, hours: PhoneHours, tz: ZoneInfo) -> bool:
    local = at.astimezone(tz)
    return is_working_day(local.date(), hours) and hours.opens <= local.time() < hours.closes


def phone_opens_next(at: datetime, hours: PhoneHours, tz: ZoneInfo) -> datetime:
    """The first opening strictly after `at`, in Swedish time."""
    local = at.astimezone(tz)
    day = local.date()
    for _ in range(_SEARCH_DAYS):
        opening = datetime.combine(day, hours.opens, tzinfo=tz)
        if opening > local and is_working_day(day, hours):
            return opening
        day += timedelta(days=1)
    raise RuntimeError(f"no phone opening within {_SEARCH_DAYS} days of {at}")


def has_passed(last_day: date, at: datetime, tz: ZoneInfo) -> bool:
    """True from the day after `last_day` (Swedish time) on."""
    return at.astimezone(tz).date() > last_day
