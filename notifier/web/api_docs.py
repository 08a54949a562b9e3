"""What /docs says about each operation: a summary, a description and examples, in one
table. FastAPI would otherwise title operations after their functions ("One", "Mint")
and show no example; tests/test_api_docs.py fails for an operation missing here."""

from typing import Any

from notifier.web import api_docs_operators

# (method, path) → (summary, description)
OPERATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("put", "/api/v1/users/{user_id}"): (
        "Spara en användare",
        "Skapar eller ersätter användaren: e-postadress, namn och organisation (kommun "
        "eller region). En ny adress häver en spärr efter studsar. Adminnyckel krävs.",
    ),
    ("get", "/api/v1/users/{user_id}"): (
        "Visa en användare",
        "Det som är sparat, och `email_status`: `ok`, eller `suppressed` (sedan när och "
        "varför) när adressen inte längre får mejl efter studsar.",
    ),
    ("delete", "/api/v1/users/{user_id}"): (
        "Ta bort en användare",
        "Tar bort användaren med behörigheter och prenumerationer; mejl som väntar stoppas.",
    ),
    ("put", "/api/v1/users/{user_id}/permissions"): (
        "Ersätt behörigheterna",
        "Ersätter alla behörigheter: ersättningstyp → `summary` (utan person) eller `full`. "
        "En typ som inte nämns ger inga notifieringar längre.",
    ),
    ("get", "/api/v1/users/{user_id}/permissions"): (
        "Visa behörigheterna",
        "Användarens behörighet per ersättningstyp.",
    ),
    ("put", "/api/v1/users/{user_id}/subscriptions"): (
        "Ersätt prenumerationerna",
        "Fliken Notifieringar i e-tjänsten: vilka händelsetyper användaren får mejl om och "
        "om de kommer direkt (`immediate`) eller samlade en gång om dagen (`daily`).",
    ),
    ("get", "/api/v1/users/{user_id}/subscriptions"): (
        "Visa prenumerationerna",
        "De sparade fälten, och `state`: för varje händelsetyp om den är på eller av. "
        "`enabled` är falskt så snart någon typ har avslutats via en länk i ett mejl.",
    ),
    ("post", "/api/v1/users/bulk"): (
        "Spara många användare",
        "En hel användare per rad (NDJSON), var och en som de tre PUT-anropen. Svarar med "
        "antal skapade, uppdaterade och avvisade rader, med radnummer och skäl.",
    ),
    ("get", "/api/v1/users/{user_id}/events/{event_id}/explanation"): (
        "Förklara ett mejl",
        "Varför användaren fick eller inte fick mejlet om händelsen: vad som hände, och "
        "varje regel prövad mot hur det ser ut nu. Samma som `notifier explain`.",
    ),
    ("post", "/api/v1/support/route"): (
        "Vart går frågan? (provkörning)",
        "Samma beslut som när ett ärende skapas, men inget sparas: vem som ska svara, vad "
        "frågan behöver innehålla och råd.",
    ),
    ("post", "/api/v1/support/tickets"): (
        "Ställ en fråga",
        "Beslutar vart frågan går och skapar ett ärende där vägen behöver ett; annars är "
        "`ticket` null. Samma `Idempotency-Key` ger samma ärende igen.",
    ),
    ("get", "/api/v1/staff"): ("Lista personalkonton", "Kontaktcentrets konton och roller."),
    ("post", "/api/v1/staff"): (
        "Skapa ett personalkonto",
        "Visar kontots nyckel en enda gång; bara dess hash sparas.",
    ),
    ("delete", "/api/v1/staff/{account_id}"): (
        "Spärra ett personalkonto",
        "Kontots nyckel och sessioner slutar gälla direkt.",
    ),
    ("get", "/api/v1/triage/tickets"): (
        "Ärendekön",
        "Dina egna köer, om inte `destination` anger en (eller `alla`); filtrera på status, "
        "ålder och sökord (referens, e-post, diarienummer eller ord i texten).",
    ),
    ("get", "/api/v1/triage/stats"): (
        "Köernas läge",
        "Öppna ärenden per mottagare, med äldsta och median ålder i arbetsdagar.",
    ),
    ("get", "/api/v1/triage/tickets/{ticket_id}"): (
        "Visa ett ärende",
        "Ärendet med frågan, beslutet och hela historiken.",
    ),
    ("get", "/api/v1/triage/tickets/{ticket_id}/attachments/{attachment_id}"): (
        "Hämta en bilaga",
        "Skärmbilden som nedladdning, aldrig som sida.",
    ),
    ("post", "/api/v1/triage/tickets/{ticket_id}/claim"): (
        "Ta ärendet",
        "Du blir handläggare för ärendet.",
    ),
    ("post", "/api/v1/triage/tickets/{ticket_id}/reroute"): (
        "Skicka ärendet vidare",
        "Till en annan mottagare, med skäl; ärendet skickas dit på nytt.",
    ),
    ("post", "/api/v1/triage/tickets/{ticket_id}/{action}"): (
        "Anteckna, svara eller stäng",
        "`notes` lägger till en intern anteckning, `answer` mejlar svaret till den som "
        "frågade, `close` stänger ärendet (texten är då frivillig).",
    ),
    ("get", "/api/v1/answers"): ("Lista standardsvar", "Alla standardsvar, med text."),
    ("get", "/api/v1/answers/{answer_id}"): ("Visa ett standardsvar", "Rubrik och text."),
    ("put", "/api/v1/answers/{answer_id}"): (
        "Spara ett standardsvar",
        "Skapar (201) eller ersätter (200) standardsvaret med detta id.",
    ),
    ("delete", "/api/v1/answers/{answer_id}"): (
        "Ta bort ett standardsvar",
        "Svar som redan skickats påverkas inte.",
    ),
    ("get", "/api/v1/triage/answers"): (
        "Standardsvar för personalen",
        "Det personalen kan börja ett svar från, efter rubrik.",
    ),
    ("get", "/unsubscribe/{token}"): (
        "Avsluta en notifiering (sida)",
        "Sidan bakom länken i mejlet: frågar innan något ändras.",
    ),
    ("post", "/unsubscribe/{token}"): (
        "Avsluta en notifiering",
        "Ett klick (RFC 8058): mejlprogram skickar POST hit från List-Unsubscribe.",
    ),
    ("get", "/mina-notifieringar/{token}"): (
        "Mina notifieringar (sida)",
        "Mottagarens notifieringar, var och en på eller av, direkt eller samlat.",
    ),
    ("post", "/mina-notifieringar/{token}"): (
        "Spara Mina notifieringar",
        "Formuläret på sidan; svarar med en omdirigering tillbaka dit.",
    ),
    ("get", "/healthz"): ("Lever processen?", "200 så länge processen svarar."),
    ("get", "/readyz"): (
        "Svarar beroendena?",
        "200 när databasen (och RabbitMQ för en process som konsumerar) svarar, annars "
        "503 med vilket som inte gör det.",
    ),
    **api_docs_operators.OPERATIONS,
}

USER = {
    "email": "anna.berg@stockholm.se",
    "name": "Anna Berg",
    "organisation": {"kind": "kommun", "code": "0180"},
}
INQUIRY = {
    "issue_type": "compensation",
    "organisation": {"kind": "kommun", "code": "0180"},
    "compensation_type": "dygnsschablon-ensamkommande",
    "target_group": "asylsokande",
    "diarienummer": "1.1.3-2026-123456",
    "name": "Anna Berg",
    "email": "anna.berg@stockholm.se",
    "message": "Utbetalningen för juni saknas.",
}
# (method, path) → an example request body
BODIES: dict[tuple[str, str], Any] = {
    ("put", "/api/v1/users/{user_id}"): USER,
    ("put", "/api/v1/users/{user_id}/permissions"): {
        "grants": {"dygnsschablon-ensamkommande": "full", "fast-arlig-ensamkommande": "summary"}
    },
    ("put", "/api/v1/users/{user_id}/subscriptions"): {
        "enabled": True,
        "event_types": ["payment.disbursed", "application.decided"],
        "delivery": "immediate",
    },
    ("post", "/api/v1/support/route"): INQUIRY,
    ("post", "/api/v1/support/tickets"): INQUIRY,
    ("post", "/api/v1/staff"): {"name": "Karin Ek", "roles": [], "destinations": ["sea"]},
    ("post", "/api/v1/triage/tickets/{ticket_id}/reroute"): {
        "destination": "sen",
        "reason": "Frågan gäller nyanlända.",
    },
    ("post", "/api/v1/triage/tickets/{ticket_id}/{action}"): {
        "text": "Utbetalningen görs sista bankdagen i månaden."
    },
    ("put", "/api/v1/answers/{answer_id}"): {
        "title": "Utbetalningsdagar",
        "text": "Utbetalningen görs sista bankdagen i månaden.",
    },
    **api_docs_operators.BODIES,
}
# Parameter name → an example value
PARAMETERS: dict[str, Any] = {
    "user_id": "u-1234",
    "event_id": "6f1c1e9e-0b7a-4a53-9a43-1f0f6a1d2b11",
    "account_id": "3b0c5d2e-8f41-4c9a-9d7e-2a6b1f0e4c33",
    "ticket_id": "0f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19",
    "attachment_id": "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
    "answer_id": "utbetalningsdagar",
    "action": "answer",
    "token": "gAAAAABl-exempel",
    "destination": "sea",
    "status": "new",
    "older_than_hours": 48,
    "q": "1.1.3-2026-123456",
    "Idempotency-Key": "3f9a2c1e-7b64-4d8e-a5f0-1c2b3d4e5f60",
    **api_docs_operators.PARAMETERS,
}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with this module's summaries, descriptions and examples."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            key = (method, path)
            if key in OPERATIONS:
                operation["summary"], operation["description"] = OPERATIONS[key]
            for content in operation.get("requestBody", {}).get("content", {}).values():
                if key in BODIES:
                    content["example"] = BODIES[key]
            for parameter in operation.get("parameters", []):
                if parameter["name"] in PARAMETERS:
                    parameter["example"] = PARAMETERS[parameter["name"]]
    return schema
