"""The Swedish words of the web form and the triage desk: labels and formats, as data."""

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from markupsafe import Markup, escape

from domain.compensation import COMPENSATION_TYPES

# Re-exported: the templates reach it as `text.organisation_name`.
from domain.organisations import organisation_name as organisation_name
from domain.swedish import SWEDISH_TIME, veckodag_och_tid
from routing.decision.schemas import Destination, IssueType, LoginMethod, LoginStep, TargetGroup
from routing.reading.words import fold
from routing.ticketing.models import TicketStatus

ISSUE_TYPES: dict[str, str] = {
    IssueType.LOGIN: "Jag kan inte logga in i e-tjänsten",
    IssueType.PERMISSIONS: "Jag ser diarienummer, belopp och ersättning, men inte vilken person "
    "det gäller",
    IssueType.COMPENSATION: "En fråga om en ansökan eller en ersättning i e-tjänsten",
    IssueType.ESERVICE_GENERAL: "En allmän fråga om e-tjänsten eller behov av teknisk support",
    IssueType.BROWSER: "E-tjänsten fungerar inte som den ska i min webbläsare",
    IssueType.EDUCATION_PERIODS: "Fyraveckorsperioder vid ansökan om ersättning för "
    "utbildningskostnader",
    IssueType.NOTIFICATIONS: "Mejlnotifieringar när något händer i en ansökan",
    IssueType.GETTING_STARTED: "Jag vill lära mig e-tjänsten (informationsträffar, manual, "
    "frågor och svar)",
    IssueType.NOT_ESERVICE: "Något annat, som inte gäller e-tjänsten eller en ersättning i den",
}

LOGIN_STEPS: dict[str, str] = {
    LoginStep.FIRST: "Steg 1: på Migrationsverkets sida, när jag väljer "
    "”E-tjänstelegitimation – SITHS”",
    LoginStep.SECOND: "Steg 2: i Ineras meny, där jag väljer hur jag legitimerar mig",
}

LOGIN_METHODS: dict[str, str] = {
    LoginMethod.SITHS_EID_THIS_DEVICE: "SITHS eID på denna enhet",
    LoginMethod.SITHS_EID_OTHER_DEVICE: "SITHS eID på annan enhet",
    LoginMethod.SITHS_CARD_NETID: "SITHS-kort på denna enhet (Net iD)",
}

# One question for "compensation type or target group": a named type, or only the group.
GROUP_PREFIX = "grupp:"
COMPENSATIONS: dict[str, str] = {code: ct.name for code, ct in COMPENSATION_TYPES.items()} | {
    GROUP_PREFIX + TargetGroup.ASYLSOKANDE: "En annan ersättning för asylsökande",
    GROUP_PREFIX + TargetGroup.NYANLANDA: "En ersättning för nyanlända",
}

REQUIREMENTS: dict[str, str] = {
    "screenshot": "En skärmbild med eventuellt meddelande som visas, det underlättar felsökningen",
    "diarienummer": "Migrationsverkets diarienummer på ärendet, om du har ett",
    "case_officer": "Handläggarens namn, om en handläggare redan är utsedd i ärendet",
}

DESTINATIONS: dict[str, str] = {
    Destination.SEA: "SEA – Statlig ersättning för asylsökande",
    Destination.SEN: "SEN – Statlig ersättning nyanlända",
    Destination.MV_KONTAKTCENTER_KOMMUN: "Kontaktcenter, kommuner",
    Destination.MV_KONTAKTCENTER_REGION: "Kontaktcenter, regioner",
    Destination.INERA: "Inera",
    Destination.LOCAL_IT: "Egen IT-support",
    Destination.LOCAL_ADMIN: "Lokal administratör",
    Destination.SELF_SERVICE: "Självservice",
}

STATUSES: dict[str, str] = {
    TicketStatus.NEW: "Ny",
    TicketStatus.IN_PROGRESS: "Pågår",
    TicketStatus.FORWARDED: "Vidarebefordrad",
    TicketStatus.ANSWERED: "Besvarad",
    TicketStatus.CLOSED: "Stängd",
    TicketStatus.DEFLECTED: "Hänvisad (e-post)",
}

# The trail's entries (TicketEvent.action), not the desk's actions that make them.
TRAIL: dict[str, str] = {
    "created": "Skapat",
    "assigned": "Tilldelat",
    "rerouted": "Omdirigerat",
    "note": "Intern anteckning",
    "answered": "Besvarat",
    "closed": "Stängt",
    "forwarded": "Vidarebefordrat",
    "status": "Ny status",
    "reply": "Svar via e-post",
    "reply_accepted": "Svar via e-post godkänt",
}


# The fields a mail's words set, as the desk names them (the decision's `rule.fields`).
READ_FIELDS: dict[str, str] = {
    "issue_type": "Gäller",
    "login_step": "Inloggningssteg",
    "login_method": "Inloggningsmetod",
    "compensation_type": "Ersättning",
    "target_group": "Målgrupp",
    "diarienummer": "Diarienummer",
    "browser": "Webbläsare",
    "destination": "Mottagare",
}


def highlight(text: str, words: Iterable[str]) -> Markup:
    """`text`, escaped, with each of the routing's `words` marked where it stands."""
    wanted = sorted({fold(w) for w in words if w.strip()}, key=len, reverse=True)
    if not wanted:
        return Markup(escape(text))
    pattern = re.compile("|".join(re.escape(w) for w in wanted), re.IGNORECASE)
    out, at = [], 0
    for hit in pattern.finditer(fold(text)):
        out += [
            escape(text[at : hit.start()]),
            Markup("<mark>"),
            escape(text[hit.start() : hit.end()]),
            Markup("</mark>"),
        ]
        at = hit.end()
    return Markup("").join([*out, escape(text[at:])])


when = veckodag_och_tid  # 'måndag 3 mars kl. 09.00', as the templates call it


def stamp(at: datetime) -> str:
    """'2026-03-03 09.15', in Swedish time, for lists and the audit trail; a time without
    a zone (as SQLite returns it) is UTC, as stored."""
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return f"{aware.astimezone(SWEDISH_TIME):%Y-%m-%d %H.%M}"


# The trail's own actor ids, as people call them.
ACTORS = {"system": "Systemet", "webbformulär": "Webbformuläret"}
STAFF_PREFIX = "staff:"


def who(actor: str | None) -> str:
    """'Karin Ek' for the actor id 'staff:Karin Ek'; the service's own ids in words; an
    email address (a reply's sender) as it is."""
    if not actor:
        return "–"
    return ACTORS.get(actor, actor.removeprefix(STAFF_PREFIX))


def label(value: str | None) -> str:
    """A trail entry's "from" or "to": a status, a destination or a person, in words."""
    if value is None:
        return "–"
    return STATUSES.get(value) or DESTINATIONS.get(value) or who(value)
