"""The one automatic reply to a support mail (RFC 3834: Auto-Submitted: auto-replied,
threaded with In-Reply-To and References), through the outbox like every email.

Migrationsverket's route: a receipt with the reference, the reply address and what the
rule needs that the mail lacks. Any other route: the advice and contact details the form
shows, so the person can turn to the right place at once.
"""

import re

from notifier.kinds.tickets import reply_to
from notifier.outbox.models import OutboxKind, OutboxMessage
from notifier.settings import Settings
from routing.decision.schemas import Contact, Decision
from routing.reading.mail_route import MailRoute
from routing.ticketing.models import Ticket

MSG_ID = re.compile(r"<[!-;=?-~]{1,250}>")  # printable ASCII, no `<`/`>`, one id
SIGNATURE = "--\nMigrationsverket, Ansök om statlig ersättning\n"
ASK = {
    "diarienummer": "Ange Migrationsverkets diarienummer på ärendet, om du har ett sådant. "
    "Om en handläggare redan är utsedd i ärendet, ange också vem.",
    "screenshot": "Bifoga en skärmbild med eventuellt meddelande som kan underlätta felsökningen.",
}
NUMBERS = {1: "en", 2: "två", 3: "tre", 4: "fyra", 5: "fem"}  # as Swedish text writes them


def promise(settings: Settings) -> str:
    """The desk's own time (NOTIFIER_DESK_STALE_WORKING_DAYS), as the queue counts it."""
    days = settings.desk_stale_working_days
    unit = "arbetsdag" if days == 1 else "arbetsdagar"
    return f"Vi svarar på mejl, oftast inom {NUMBERS.get(days, str(days))} {unit}."


def reply(
    ticket: Ticket,
    route: MailRoute,
    settings: Settings,
    key: bytes,
    *,
    message_id: str,
    references: str,
) -> OutboxMessage:
    """The reply to the mail whose `Message-ID` and `References` are given."""
    receipt = ticket.status != "deflected"
    headers = threading(message_id, references) | {"Auto-Submitted": "auto-replied"}
    if receipt:
        headers |= reply_to(ticket, settings, key)
    subject = (ticket.subject or "")[:150] or "Din fråga"
    return OutboxMessage(
        message_id=f"ticket.{ticket.id}.mail-reply",
        kind=OutboxKind.TICKET_ANSWER,  # to the person, as answers are
        channel="email",
        ticket_id=ticket.id,
        recipient=ticket.sender or "",
        subject=f"Re: {subject} [{ticket.reference}]",
        body_text=(receipt_text if receipt else advice_text)(ticket, route, settings),
        headers=headers,
    )


def threading(message_id: str, references: str) -> dict[str, str]:
    """In-Reply-To and References (RFC 5322 §3.6.4), so the reply sits in its thread."""
    own = message_id.strip()
    if not MSG_ID.fullmatch(own):
        return {}
    earlier = [ref for ref in references.split() if MSG_ID.fullmatch(ref)][-10:]
    return {"In-Reply-To": own, "References": " ".join([*earlier, own])}


def greeting(ticket: Ticket) -> str:
    name = ticket.inquiry.get("name")
    return f"Hej {name}!" if name else "Hej!"


def receipt_text(ticket: Ticket, route: MailRoute, settings: Settings) -> str:
    asks = "".join(f"{ASK[need]}\n" for need in route.missing)
    more = f"\nFör att vi ska kunna hjälpa dig:\n{asks}" if asks else ""
    if settings.reply_domain:
        answer = "Svara på det här mejlet om du vill lägga till något; svaret hamnar i ärendet."
    else:
        answer = "Skriv en ny fråga och ange referensen om du vill lägga till något."
    return (
        f"{greeting(ticket)}\n\nVi har tagit emot din fråga. Referens: {ticket.reference}\n\n"
        f"Frågan har gått till {route.decision.primary.name}. {promise(settings)}\n{more}\n"
        f"{answer}\n\n{SIGNATURE}"
    )


def advice_text(ticket: Ticket, route: MailRoute, settings: Settings) -> str:
    decision = route.decision
    return (
        f"{greeting(ticket)}\n\nTack för din fråga (referens {ticket.reference}). Den hör "
        f"hemma hos {decision.primary.name}, inte hos Migrationsverket, så vi svarar inte på "
        f"den här. Så här kommer du vidare:\n\n{advice(decision)}\n"
        f"Har vi läst din fråga fel? Skriv igen, berätta mer och ange referensen.\n\n"
        f"{SIGNATURE}"
    )


def advice(decision: Decision) -> str:
    lines = [f"- {line}" for line in decision.advice]
    lines.append(f"\nI första hand: {contact(decision.primary)}")
    if decision.secondary:
        lines.append(f"I andra hand: {contact(decision.secondary)}")
    return "\n".join(lines) + "\n"


def contact(c: Contact) -> str:
    parts = [c.name, c.email, c.phone and f"telefon {c.phone}", c.hours, c.url]
    return ", ".join(part for part in parts if part)
