"""The emails to the person who asked: the receipt of a new ticket and staff's answers,
plain text in Swedish, each closed by the same signature."""

import re

from domain.swedish import antal
from notifier.settings import Settings
from routing.decision.schemas import Decision
from routing.ticketing.models import Ticket


def _greeting(ticket: Ticket) -> str:
    name = ticket.inquiry.get("name")
    return f"Hej {name}!" if name else "Hej!"


def support_page(settings: Settings) -> str:
    return f"{settings.base_url}/support"


def _signature(ticket: Ticket, settings: Settings) -> str:
    """The same close under every receipt and answer: "-- " (RFC 3676), who wrote, the
    reference, and how to go on."""
    if settings.reply_domain:
        follow_up = "Svara på det här mejlet om du vill lägga till något; svaret hamnar i ärendet."
    else:
        follow_up = (
            "Det går inte att svara på det här mejlet. Har du mer att fråga? Ställ en ny "
            f"fråga på supportsidan, {support_page(settings)}, och ange referensen."
        )
    return (
        f"-- \nMigrationsverket, Ansök om statlig ersättning\n"
        f"Referens: {ticket.reference}\n{follow_up}\n"
    )


def receipt_text(ticket: Ticket, decision: Decision, settings: Settings) -> str:
    days = settings.desk_stale_working_days
    within = "en arbetsdag" if days == 1 else f"{antal(days)} arbetsdagar"
    return (
        f"{_greeting(ticket)}\n\nVi har tagit emot din fråga. Referens: {ticket.reference}\n\n"
        f"Frågan har gått till {decision.primary.name}. Du får svar via e-post, oftast inom "
        f"{within}. Ange referensen om du kontaktar oss om frågan.\n\n"
        f"{_signature(ticket, settings)}"
    )


# A staff text that opens with its own greeting is not greeted a second time.
GREETING = re.compile(r"^\s*(hej|hejsan|hallå|god\s*dag|god\s*morgon)\b", re.IGNORECASE)


def answer_text(ticket: Ticket, text: str, settings: Settings) -> str:
    opening = (
        "" if GREETING.match(text) else f"{_greeting(ticket)}\n\nHär är svaret på din fråga:\n\n"
    )
    return f"{opening}{text.strip()}\n\n{_signature(ticket, settings)}"
