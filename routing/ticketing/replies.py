"""The person's replies by email: a ticket's reply address, what of a reply is theirs
(not the quoted history or the signature), and adding it to the ticket's trail, which
reopens an answered ticket — or holds it for staff where it may not be the person's.

A reply address is `svar+<reference>.<mac>@<reply domain>`: the MAC (HMAC-SHA256 of the
reference under the service's signing key, 100 bits in base32) makes it unguessable, so
knowing or guessing a reference is not enough to write into a ticket. Lower case
throughout: relays may lower the case of a local part.
"""

import base64
import hashlib
import hmac
import re
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from routing.ticketing.models import Ticket, TicketEvent, TicketStatus
from routing.ticketing.tickets import SYSTEM, TicketError, events, record

REPLY = "reply"  # the trail's action for a message from the person
ACCEPTED = "reply_accepted"  # staff took a held reply in
HELD = "held"  # a reply's detail: why it waits for staff
MAX_REPLY = 10_000
_MAC_CHARS = 20  # base32: 100 bits
_TOKEN = re.compile(rf"(sup-[23456789abcdefghjkmnpqrstuvwxyz]{{8}})\.([a-z2-7]{{{_MAC_CHARS}}})")

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


def reply_address(reference: str, *, key: bytes, domain: str) -> str:
    """Where replies about the ticket `reference` go; the one place such an address is made."""
    return f"svar+{reference.lower()}.{_mac(reference, key)}@{domain.lower()}"


def reference_of(local_part: str, *, key: bytes) -> str | None:
    """`svar+sup-7k3m9qx2.<mac>` → `SUP-7K3M9QX2` where the MAC is right, else None (the
    reference alone, as addresses had it once, names nothing)."""
    prefix, plus, token = local_part.partition("+")
    found = _TOKEN.fullmatch(token.lower()) if prefix.lower() == "svar" and plus else None
    if found is None:
        return None
    reference = found[1].upper()
    return reference if hmac.compare_digest(found[2], _mac(reference, key)) else None


def _mac(reference: str, key: bytes) -> str:
    message = b"ticket-reply-address:" + reference.upper().encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:_MAC_CHARS]


async def add_reply(
    *,
    session: AsyncSession,
    ticket: Ticket,
    sender: str,
    text: str,
    detail: dict[str, Any] | None = None,
    held: str | None = None,
) -> TicketEvent:
    """The person's message, in the trail as theirs; an answered or closed ticket is open
    again (outside the staff transitions: only a reply reopens), back with its owner.
    A `held` reply (why, in Swedish) waits in the trail for staff and reopens nothing."""
    detail = (detail or {}) | ({HELD: held} if held else {})
    event = await record(session, ticket, sender, REPLY, text or None, detail)
    if not held:
        await _reopen(session, ticket)
    return event


async def accept_reply(
    *, session: AsyncSession, ticket: Ticket, reply_id: int, actor: str
) -> TicketEvent:
    """Staff take a held reply in: it counts as the person's from now, and reopens."""
    if reply_id not in held_replies(await events(session=session, ticket_id=ticket.id)):
        raise TicketError("Det finns inget svar som väntar på granskning med det numret.")
    event = await record(session, ticket, actor, ACCEPTED, detail={"reply": reply_id})
    await _reopen(session, ticket)
    return event


def held_replies(trail: list[TicketEvent]) -> set[int]:
    """The ids of the trail's replies that wait for staff."""
    held = {e.id for e in trail if e.action == REPLY and e.detail.get(HELD) and e.id}
    return held - {e.detail.get("reply") for e in trail if e.action == ACCEPTED}


async def _reopen(session: AsyncSession, ticket: Ticket) -> None:
    if ticket.status in {TicketStatus.ANSWERED, TicketStatus.CLOSED}:
        previous = ticket.status
        ticket.status = TicketStatus.IN_PROGRESS if ticket.assignee else TicketStatus.NEW
        reopened = {"from": previous, "to": ticket.status, "reopened": True}
        await record(session, ticket, SYSTEM, "status", "Den som frågade har svarat.", reopened)
