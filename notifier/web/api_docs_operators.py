"""What /docs says about the operators' operations (the console's API, suppressions, held
replies): a summary and a description each, merged into notifier.web.api_docs's table."""

OPERATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("get", "/api/v1/suppressions"): (
        "Spärrade adresser",
        "Adresser som inte längre får mejl efter studsar: sedan när, varför, statuskod och "
        "vilka användare som har adressen. Driftroll eller adminnyckel.",
    ),
    ("delete", "/api/v1/suppressions/{email}"): (
        "Häv en spärr",
        "Adressen får mejl igen från nästa händelse; loggas. En ny adress för användaren "
        "häver också spärren.",
    ),
    ("post", "/api/v1/triage/tickets/{ticket_id}/replies/{reply_id}/accept"): (
        "Godkänn ett svar som väntar",
        "Ett svar från en annan adress än ärendets (eller som reläet inte kunde verifiera) "
        "väntar på granskning; godkänt räknas det som svar från den som frågade.",
    ),
    ("get", "/api/v1/deliveries"): (
        "Sök mejl",
        "Varje mejl till en adress, en användare, ett diarienummer eller en händelse: typ, "
        "status, försök, senaste fel, Message-ID och tider. Med användare och händelse "
        "också förklaringen. Driftroll eller adminnyckel.",
    ),
    ("get", "/api/v1/failures"): (
        "Misslyckade mejl",
        "Mejl som inte gick att skicka, grupperade efter orsak.",
    ),
    ("post", "/api/v1/failures/retry"): (
        "Försök igen med en orsak",
        "Alla misslyckade mejl med orsaken får ett nytt försök genom utkorgen; loggas.",
    ),
    ("post", "/api/v1/failures/{email_id}/retry"): (
        "Försök igen med ett mejl",
        "Ett nytt försök genom utkorgen; loggas.",
    ),
    ("get", "/api/v1/dead-letters"): (
        "Döda meddelanden",
        "Meddelanden som inte var giltiga händelser, med orsak och innehåll; alla ligger "
        "kvar i kön.",
    ),
    ("post", "/api/v1/dead-letters/replay"): (
        "Skicka döda meddelanden igen",
        "Ett (med `key`) eller alla publiceras på nytt på händelseutbytet; loggas.",
    ),
    ("post", "/api/v1/dead-letters/discard"): (
        "Kasta ett dött meddelande",
        "Tar bort ett meddelande ur kön för döda meddelanden; loggas.",
    ),
    ("get", "/api/v1/operations/overview"): (
        "Driftöversikt",
        "Väntande mejl och det äldstas ålder, skickade och misslyckade senaste dygnet per "
        "typ, döda meddelanden, spärrade adresser och arbetarnas senaste aktivitet.",
    ),
    ("get", "/api/v1/operations/audit"): (
        "Driftlogg",
        "Vad operatörerna har gjort, senaste först: vem, vad och när.",
    ),
    ("get", "/api/v1/templates"): (
        "Mejlmallar",
        "Varje mejl tjänsten skickar, med namn och vilka nivåer (`full`, `summary`) det har.",
    ),
    ("get", "/api/v1/templates/{name}/preview"): (
        "Förhandsgranska en mall",
        "Ämnesrad, text och HTML med realistiska exempeldata, på nivån `level`.",
    ),
    ("post", "/api/v1/templates/{name}/test"): (
        "Skicka ett testmejl",
        "Skickar mallen en gång genom utkorgen och reläet, märkt [TEST], aldrig till en "
        "användares adress; begränsat per operatör.",
    ),
    ("get", "/api/v1/announcements"): (
        "Aktuellt i e-tjänsten",
        "Meddelanden som operatörer har skrivit: schemalagda, skickade och avbrutna.",
    ),
    ("post", "/api/v1/announcements"): (
        "Skriv ett meddelande",
        "Titel och text (Markdown utan HTML), ersättningstyper och eventuellt "
        "organisationer; skickas nu eller vid `send_at`. Svarar med antal mottagare per "
        "nivå.",
    ),
    ("delete", "/api/v1/announcements/{announcement_id}"): (
        "Avbryt ett meddelande",
        "Före utskicket; 409 när det redan är skickat.",
    ),
}

BODIES: dict[tuple[str, str], object] = {
    ("post", "/api/v1/failures/retry"): {"reason": "550 5.1.1 No such mailbox"},
    ("post", "/api/v1/dead-letters/replay"): {"key": None},
    ("post", "/api/v1/dead-letters/discard"): {"key": "6f1c1e9e0b7a4a539a431f0f6a1d2b11"},
    ("post", "/api/v1/templates/{name}/test"): {"to": "drift@migrationsverket.se", "level": "full"},
    ("post", "/api/v1/announcements"): {
        "title": "Planerat underhåll 12 december",
        "body": "E-tjänsten är stängd kl. 18–20.\n\nLäs mer på https://www.migrationsverket.se.",
        "compensation_types": ["dygnsschablon-ensamkommande"],
        "send_at": "2026-12-10T08:00:00+01:00",
    },
}
PARAMETERS: dict[str, object] = {
    "email": "anna.berg@stockholm.se",
    "reply_id": "5c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098",
    "diarienummer": "1.1.3-2026-123456",
    "reference": "SUP-7K3M9QX2",
    "email_id": 4711,
    "name": "payment.disbursed",
    "level": "summary",
    "announcement_id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
}
