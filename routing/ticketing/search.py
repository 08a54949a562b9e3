"""Finding tickets by what staff remember of them: the reference, the person's email, a
diarienummer, or words of the question (or of a mail's subject).

A portable LIKE over the inquiry's stored text fields, every word required somewhere:
the same SQL on SQLite and PostgreSQL, and at the desk's scale (thousands of open
tickets, not millions) a scan is fast enough. Swedish stemming with
`to_tsvector('swedish', …)` and a GIN index is the step up on PostgreSQL when it is not.
`lower()` folds å, ä and ö on PostgreSQL; SQLite's folds ASCII only, so there a search
for "Ärende" finds "Ärende" but not "ärende".
"""

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import col

from routing.ticketing.models import Ticket

# The inquiry's free-text fields (docs/contracts.md §3) staff search in.
TEXT_FIELDS = ("email", "diarienummer", "message", "name", "case_officer")
MAX_WORDS = 8  # a pasted paragraph is not a search; the first words are enough


def words(q: str) -> list[str]:
    return [word.lower() for word in q.split()][:MAX_WORDS]


def matches(q: str) -> ColumnElement[bool] | None:
    """The condition for tickets matching every word of `q`; None for an empty `q`."""
    wanted = words(q)
    if not wanted:
        return None
    fields = [func.lower(col(Ticket.reference)), func.lower(func.coalesce(col(Ticket.subject), ""))]
    fields += [func.lower(col(Ticket.inquiry)[name].as_string()) for name in TEXT_FIELDS]
    return and_(
        *(or_(*(field.contains(word, autoescape=True) for field in fields)) for word in wanted)
    )
