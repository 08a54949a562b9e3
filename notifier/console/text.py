"""The console's words: labels of kinds, statuses and actions, and times as people read
them (Swedish time). Handed to every console page as `c`."""

from datetime import datetime

from routing.web.webtext import stamp as _stamp

KINDS = {
    "notification": "Notifiering",
    "digest": "Daglig sammanfattning",
    "digest_item": "Del av sammanfattning",
    "ticket": "Ärende vidare",
    "ticket_answer": "Kvitto eller svar på ärende",
    "test": "Testutskick",
}
STATUSES = {
    "pending": "Väntar",
    "sent": "Skickat",
    "failed": "Misslyckat",
    "bounced": "Studsade",
    "suppressed": "Spärrad adress",
    "cancelled": "Stoppat",
    "scheduled": "Schemalagt",
}
LEVELS = {"full": "Full behörighet", "summary": "Begränsad behörighet"}
ACTIONS = {
    "failures.retry": "Nytt försök med misslyckade mejl",
    "dead_letters.replay": "Dead letter skickat igen",
    "dead_letters.discard": "Dead letter kastat",
    "templates.test": "Testutskick",
    "announcements.create": "Meddelande skrivet",
    "announcements.send": "Meddelande skickat",
    "announcements.cancel": "Meddelande stoppat",
    "suppressions.lift": "Spärr av adress hävd",
}
REASONS = {
    "hard_bounce": "Studsade (permanent fel)",
    "soft_bounces": "Studsade upprepade gånger (tillfälliga fel)",
}


def stamp(at: datetime | None) -> str:
    return _stamp(at) if at else "–"
