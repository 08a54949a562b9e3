"""What an inquiry must carry beyond its schema: the fields its issue type needs, and what
a ticket needs so that Migrationsverket can answer it.

Pure functions returning {field: Swedish message}; the API turns them into 422s and the
web form into messages beside each field.
"""

from routing.decision.schemas import Inquiry, IssueType

REQUIRED_FOR = {
    IssueType.LOGIN: {
        "organisation": "Ange din kommun eller region: den avgör vart frågan ska.",
        "login_step": "Ange i vilket inloggningssteg problemet uppstår (1 eller 2).",
    },
}
# Diarienummer and handläggare are asked for (Decision.requires) but never required here:
# the seed wants them only "if there is one" and "if one is assigned".
TICKET_FIELDS = {
    "organisation": "Ange din kommun eller region.",
    "name": "Ange ditt namn.",
    "email": "Ange din e-postadress så att Migrationsverket kan svara dig.",
    "message": "Beskriv din fråga.",
}


def missing_for_route(inquiry: Inquiry) -> dict[str, str]:
    """Fields the issue type needs before a route can be chosen."""
    missing = {
        name: message
        for name, message in REQUIRED_FOR.get(inquiry.issue_type, {}).items()
        if getattr(inquiry, name) is None
    }
    if (
        inquiry.issue_type == IssueType.COMPENSATION
        and inquiry.compensation_type is None
        and inquiry.target_group is None
    ):
        missing["compensation_type"] = (
            "Ange vilken ersättning frågan gäller, eller målgruppen (asylsökande eller nyanlända)."
        )
    return missing


def missing_for_ticket(inquiry: Inquiry) -> dict[str, str]:
    """Fields a ticket needs so that someone can answer it."""
    return {name: message for name, message in TICKET_FIELDS.items() if not getattr(inquiry, name)}
