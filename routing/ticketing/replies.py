"""The person's replies by email: what of a reply is theirs (not the quoted history or
the signature), and adding it to the ticket's trail, which reopens an answered ticket."""

import re
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from routing.ticketing.models import Ticket, TicketEvent, TicketStatus
from routing.ticketing.tickets import SYSTEM, record

REPLY = "reply"  # the trail's action for a message from the person
MAX_REPLY = 10_000
REFERENCE = re.compile(r"SUP-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}")

# Where the history starts in the mail clients Swedish offices use: Outlook's header
# block, Gmail's and Apple's "… skrev:"/"… wrote:", and the separators of older clients.
_HISTORY = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:Original Message|Ursprungligt meddelande|Vidarebefordrat meddelande)\s*-{2,}"
    r"|_{10,}"
    r"|(?:Från|From):\s.+"
    r"|(?:Den\s|On\s|\d).*\b(?:skrev|wrote)\b.*:\s*$"
    r")",
    re.IGNORECASE,
)
# RFC 3676's "-- " delimiter, and the phones' one-line signatures.
_SIGNATURE = re.compile(r"^(?:--\s?|(?:Skickat|Skickades|Sent) från .+|Sent from .+)$")


def reply_text(body: str) -> str:
    """The reply's own words: up to the quoted history or the signature, `>` lines out."""
    kept: list[str] = []
    for line in body.replace("\r\n", "\n").split("\n"):
        if _HISTORY.match(line) or _SIGNATURE.match(line.rstrip("\n")):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    return "\n".join(kept).strip()[:MAX_REPLY]


def reference_in(local_part: str) -> str | None:
    """`svar+SUP-7K3M9QX2` → `SUP-7K3M9QX2`; relays may have lowered its case."""
    prefix, plus, rest = local_part.partition("+")
    if prefix.lower() != "svar" or not plus:
        return None
    reference = rest.upper()
    return reference if REFERENCE.fullmatch(reference) else None


async def add_reply(
    *,
    session: AsyncSession,
    ticket: Ticket,
    sender: str,
    text: str,
    detail: dict[str, Any] | None = None,
) -> TicketEvent:
    """The person's message, in the trail as theirs; an answered or closed ticket is open
    again (outside the staff transitions: only a reply reopens), back with its owner."""
    event = await record(session, ticket, sender, REPLY, text or None, detail or {})
    if ticket.status in {TicketStatus.ANSWERED, TicketStatus.CLOSED}:
        previous = ticket.status
        ticket.status = TicketStatus.IN_PROGRESS if ticket.assignee else TicketStatus.NEW
        reopened = {"from": previous, "to": ticket.status, "reopened": True}
        await record(session, ticket, SYSTEM, "status", "Den som frågade har svarat.", reopened)
    return event
