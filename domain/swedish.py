"""How Swedes write dates, times and amounts: one place for the emails and the web pages."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

SWEDISH_TIME = ZoneInfo("Europe/Stockholm")
NBSP = "\u00a0"  # keeps "12 345,50 kr" and "25 november" on one line where it matters

MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")


# Klarspråk writes the numbers up to twelve in words ("inom två arbetsdagar").
NUMBER_WORDS = (
    "noll",
    "en",
    "två",
    "tre",
    "fyra",
    "fem",
    "sex",
    "sju",
    "åtta",
    "nio",
    "tio",
    "elva",
    "tolv",
)


def datum(value: date | datetime) -> str:
    """'25 november 2026' with no-break spaces, so a narrow screen never splits a date;
    a datetime is read in Swedish time."""
    if isinstance(value, datetime):
        value = value.astimezone(SWEDISH_TIME).date()
    return f"{value.day}{NBSP}{MONTHS[value.month - 1]}{NBSP}{value.year}"


def antal(number: int) -> str:
    """0–12 in words ('två'), larger numbers in digits ('14'), as klarspråk writes them."""
    return NUMBER_WORDS[number] if 0 <= number < len(NUMBER_WORDS) else str(number)


def klockslag(value: datetime) -> str:
    """'09.00', in Swedish time."""
    return value.astimezone(SWEDISH_TIME).strftime("%H.%M")


def veckodag_och_tid(value: datetime) -> str:
    """'måndag 3 mars kl. 09.00', in Swedish time."""
    local = value.astimezone(SWEDISH_TIME)
    return (
        f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} kl. {klockslag(local)}"
    )


def kronor(amount: Decimal) -> str:
    """12345.5 → '12 345,50 kr' (Swedish grouping and decimal comma)."""
    grouped = f"{amount:,.2f}".replace(",", NBSP).replace(".", ",")
    return f"{grouped}{NBSP}kr"
