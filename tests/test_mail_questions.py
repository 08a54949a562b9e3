"""Questions by email: a mail to a support address (NOTIFIER_SUPPORT_ADDRESSES) becomes a
ticket routed by its words, over a real SMTP connection to `notifier inbound`."""

from collections.abc import Sequence
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
import pytest
from sqlalchemy.exc import OperationalError

from domain.sqltypes import utcnow
from notifier.compose import Services
from notifier.inbound.questions import SupportQuestions
from notifier.outbox.models import OutboxMessage
from notifier.settings import Settings
from routing.reading.words import default_words
from routing.ticketing import retention
from tests import test_inbound
from tests.test_inbound import DOMAIN, outbox, send, tiny_png
from tests.test_triage import mint

KOMMUN = "etjanstkommuner@migrationsverket.se"
SEA = "e-tjanst-statligersattning@migrationsverket.se"
SUPPORT = {
    KOMMUN: "mv_kontaktcenter_kommun",
    "halsoundersokningar-melker@migrationsverket.se": "mv_kontaktcenter_region",
    SEA: "sea",
    "statsbidragsfunktionen@migrationsverket.se": "sen",
}
SENDER = "anna.berg@stockholm.se"


inbound = test_inbound.inbound  # the same `notifier inbound` on a loopback port


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"reply_domain": DOMAIN, "support_addresses": SUPPORT, "support_replies_per_hour": 2}
    )


def question(
    to: str,
    subject: str,
    text: str,
    *,
    sender: str = f"Anna Berg <{SENDER}>",
    images: Sequence[bytes] = (),
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = "<fraga-1@stockholm.se>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    for data in images:
        message.add_attachment(data, maintype="image", subtype="png", filename="skarmbild.png")
    return message


async def tickets_of(client: httpx.AsyncClient, staff: dict[str, str]) -> list[dict[str, Any]]:
    params = {"destination": "alla"}
    found = await client.get("/api/v1/triage/tickets", params=params, headers=staff)
    assert found.status_code == 200, found.text
    return list(found.json()["tickets"])


async def one_ticket(client: httpx.AsyncClient, staff: dict[str, str]) -> dict[str, Any]:
    [ticket] = await tickets_of(client, staff)
    detail = await client.get(f"/api/v1/triage/tickets/{ticket['id']}", headers=staff)
    return dict(detail.json())


def replies_to_person(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    return [row for row in rows if row.message_id.endswith(".mail-reply")]


async def test_the_mail_story_from_support_address_to_the_persons_reply(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, inbound: int
) -> None:
    text = (
        "Hej!\n\nJag kommer inte in i e-tjänsten. När jag väljer E-tjänstelegitimation – "
        "SITHS längst ner får jag ett felmeddelande. Skärmbild bifogad.\n\n"
        "Med vänliga hälsningar\nAnna Berg\nHandläggare, Socialtjänsten\nTelefon 08-123 45 67"
    )
    await send(inbound, question(KOMMUN, "Kan inte logga in", text, images=[tiny_png()]))
    staff = (await mint(client, admin))[1]
    ticket = await one_ticket(client, staff)
    assert (ticket["channel"], ticket["subject"]) == ("email", "Kan inte logga in")
    assert ticket["destination"] == "mv_kontaktcenter_kommun"
    assert ticket["inquiry"]["organisation"] == {"kind": "kommun", "code": "0180"}
    assert ticket["inquiry"]["email"] == SENDER and ticket["inquiry"]["name"] == "Anna Berg"
    fields = ticket["decision"]["rule"]["fields"]
    assert ticket["decision"]["rule"]["id"] == "login-step1-kommun"
    assert fields["login_step"]["value"] == "1"
    assert "E-tjänstelegitimation" in fields["login_step"]["words"]
    assert fields["issue_type"] == {
        "value": "login",
        "rule": "login",
        "words": ["logga in", "kommer inte in", "SITHS", "E-tjänstelegitimation"],
    }
    [image] = ticket["attachments"]
    assert image["content_type"] == "image/png"

    [receipt] = replies_to_person(await outbox(services))
    assert receipt.recipient == SENDER
    assert receipt.headers["Auto-Submitted"] == "auto-replied"
    assert receipt.headers["In-Reply-To"] == "<fraga-1@stockholm.se>"
    assert receipt.headers["References"] == "<fraga-1@stockholm.se>"
    reply_address = receipt.headers["Reply-To"]
    assert reply_address.endswith("@" + DOMAIN)
    assert ticket["reference"] in receipt.subject  # type: ignore[operator]
    assert "oftast inom två arbetsdagar" in receipt.body_text  # type: ignore[operator]
    assert "skärmbild" not in receipt.body_text.lower()  # type: ignore[union-attr]

    url = f"/api/v1/triage/tickets/{ticket['id']}"
    await client.post(f"{url}/claim", headers=staff)
    answer = {"text": "Prova att starta om datorn."}
    assert (await client.post(f"{url}/answer", json=answer, headers=staff)).status_code == 200
    back = question(reply_address, "Re: Kan inte logga in", "Nu fungerar det, tack!")
    await send(inbound, back)
    detail = (await client.get(url, headers=staff)).json()
    replied = [(e["actor"], e["reason"]) for e in detail["events"] if e["action"] == "reply"]
    assert replied == [(SENDER, "Nu fungerar det, tack!")]
    assert detail["status"] == "in_progress"


async def test_a_step_two_problem_mailed_to_sea_is_kept_deflected_with_the_forms_advice(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, inbound: int
) -> None:
    text = "Hej, i andra steget i Ineras meny fungerar inte SITHS eID på min mobil."
    await send(inbound, question(SEA, "Inloggning", text))
    staff = (await mint(client, admin))[1]
    ticket = await one_ticket(client, staff)
    assert (ticket["destination"], ticket["status"]) == ("local_it", "deflected")
    assert ticket["decision"]["rule"]["id"] == "login-step2"
    [advice] = replies_to_person(await outbox(services))
    assert "Reply-To" not in advice.headers
    assert "egen interna IT-supportenhet" in advice.body_text  # type: ignore[operator]
    assert "Ineras support" in advice.body_text  # type: ignore[operator]
    assert not [m for m in await outbox(services) if m.kind == "ticket"]  # nothing forwarded

    reopened = {"destination": "mv_kontaktcenter_kommun", "reason": "Steg ett, inte två."}
    url = f"/api/v1/triage/tickets/{ticket['id']}"
    assert (await client.post(f"{url}/reroute", json=reopened, headers=staff)).status_code == 200
    assert (await client.get(url, headers=staff)).json()["status"] == "new"


async def test_a_question_to_sea_without_diarienummer_is_asked_for_it(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, inbound: int
) -> None:
    text = "Hej! Vi har inte fått utbetalningen av dygnsschablonen för oktober. Varför?"
    await send(inbound, question(SEA, "Utbetalning saknas", text))
    ticket = await one_ticket(client, (await mint(client, admin))[1])
    assert (ticket["destination"], ticket["inquiry"]["compensation_type"]) == (
        "sea",
        "dygnsschablon-ensamkommande",
    )
    [receipt] = replies_to_person(await outbox(services))
    assert "diarienummer" in receipt.body_text  # type: ignore[operator]
    assert [m.recipient for m in await outbox(services) if m.kind == "ticket"] == [
        "sea@tickets.statlig-ersattning.invalid"
    ]


@pytest.mark.parametrize(
    ("headers", "sender"),
    [({"Auto_Submitted": "auto-replied"}, SENDER), ({}, "")],
)
async def test_automatic_mail_and_bounces_make_no_ticket_and_no_reply(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    services: Services,
    inbound: int,
    headers: dict[str, str],
    sender: str,
) -> None:
    mail = question(KOMMUN, "Automatiskt svar", "Jag är ledig.")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    await send(inbound, mail, sender)
    assert await tickets_of(client, (await mint(client, admin))[1]) == []
    assert await outbox(services) == []


async def test_a_mailing_list_gets_a_ticket_but_no_reply(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, inbound: int
) -> None:
    mail = question(KOMMUN, "Nyhetsbrev", "Inloggning med SITHS.", List_Id="<nyheter.skr.se>")
    await send(inbound, mail)
    assert len(await tickets_of(client, (await mint(client, admin))[1])) == 1
    assert replies_to_person(await outbox(services)) == []


async def test_one_sender_gets_at_most_the_hours_replies(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, inbound: int
) -> None:
    for n in range(4):
        await send(inbound, question(KOMMUN, f"Fråga {n}", "Kan inte logga in med SITHS."))
    assert len(await tickets_of(client, (await mint(client, admin))[1])) == 4
    assert len(replies_to_person(await outbox(services))) == 2  # support_replies_per_hour


async def test_an_outlook_html_mail_with_a_pasted_screenshot(
    client: httpx.AsyncClient, admin: dict[str, str], inbound: int
) -> None:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = SENDER, KOMMUN, "SV: fel vid inloggning"
    mail.set_content("<p>Se felet i f&ouml;rsta steget:</p><p><img src='cid:bild1'></p>", "html")
    mail.add_related(tiny_png(), "image", "png", cid="<bild1>")
    await send(inbound, mail)
    ticket = await one_ticket(client, (await mint(client, admin))[1])
    assert "Se felet i första steget" in ticket["inquiry"]["message"]
    assert len(ticket["attachments"]) == 1
    assert ticket["destination"] == "mv_kontaktcenter_kommun"


def test_support_addresses_are_read_from_the_contracts_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listed = f"{KOMMUN.upper()}=mv_kontaktcenter_kommun, {SEA}=sea"
    monkeypatch.setenv("NOTIFIER_SUPPORT_ADDRESSES", listed)
    assert Settings().support_addresses == {KOMMUN: "mv_kontaktcenter_kommun", SEA: "sea"}
    monkeypatch.setenv("NOTIFIER_SUPPORT_ADDRESSES", f"{SEA}=nowhere")
    with pytest.raises(ValueError, match="support_addresses"):
        Settings()


async def test_hostile_mail_makes_a_plain_ticket_and_never_fails_the_delivery(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, inbound: int
) -> None:
    raw = (
        "From: =?utf-8?q?Eve=0A=E2=80=A8Bcc=3A_x?= <not an address>\r\n"
        f"To: {KOMMUN}\r\n"
        "Subject: =?utf-8?q?Inloggning=00=0A_X-Evil=3A_1?=\r\n"
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nKan inte logga in\r\n"
        "--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nTVo=\r\n"
        "--b--\r\n"
    )
    await aiosmtplib.send(
        raw.encode(), sender=SENDER, recipients=[KOMMUN], hostname="127.0.0.1", port=inbound
    )
    ticket = await one_ticket(client, (await mint(client, admin))[1])
    assert ticket["inquiry"]["email"] == SENDER  # the envelope, From having no address
    assert "\n" not in ticket["inquiry"]["name"] and "\u2028" not in ticket["inquiry"]["name"]
    assert "\x00" not in ticket["subject"] and "\n" not in ticket["subject"]
    assert ticket["attachments"] == []
    assert len(replies_to_person(await outbox(services))) == 1


async def test_a_question_in_an_unknown_charset_is_refused_clearly_and_nothing_stored(
    client: httpx.AsyncClient, admin: dict[str, str], inbound: int
) -> None:
    raw = (
        f"From: Anna <{SENDER}>\r\nTo: {KOMMUN}\r\nSubject: Inloggning\r\n"
        "Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nKan inte logga in\r\n"
    )
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await aiosmtplib.send(
            raw.encode(), sender=SENDER, recipients=[KOMMUN], hostname="127.0.0.1", port=inbound
        )
    assert refused.value.code == 554  # the relay tells the person at once, in its bounce
    assert await tickets_of(client, (await mint(client, admin))[1]) == []


async def test_writing_again_with_the_reference_continues_ones_own_ticket(
    client: httpx.AsyncClient, admin: dict[str, str], inbound: int
) -> None:
    await send(inbound, question(SEA, "Utbetalning", "Dygnsschablonen saknas för mars."))
    staff = (await mint(client, admin))[1]
    [ticket] = await tickets_of(client, staff)
    subject = f"SV: Re: Utbetalning [{ticket['reference']}]"
    await send(inbound, question(SEA, subject, "Diarienumret är 1.1.3-2026-1234.\n\n> Hej"))
    await send(inbound, question(SEA, subject, "Jag har samma fråga.", sender="x@malmo.se"))
    assert len(await tickets_of(client, staff)) == 2  # a stranger's mail is a ticket of its own
    url = f"/api/v1/triage/tickets/{ticket['id']}"
    events = (await client.get(url, headers=staff)).json()["events"]
    assert [(e["actor"], e["reason"]) for e in events if e["action"] == "reply"] == [
        (SENDER, "Diarienumret är 1.1.3-2026-1234.")
    ]


async def test_a_deflected_mail_is_purged_with_its_subject_sender_and_words(
    client: httpx.AsyncClient, admin: dict[str, str], services: Services, inbound: int
) -> None:
    text = "SITHS eID på annan enhet fungerar inte, dnr 1.1.3-2026-5555."
    await send(inbound, question(SEA, "Anna Bergs inloggning", text))
    async with services.sessions() as db:
        purged = await retention.purge_closed_tickets(
            session=db, before=utcnow() + timedelta(days=1), now=utcnow()
        )
        await db.commit()
    assert purged.tickets == 1
    ticket = await one_ticket(client, (await mint(client, admin))[1])
    assert (ticket["status"], ticket["subject"]) == ("deflected", None)
    fields = ticket["decision"]["rule"]["fields"]
    assert all("words" not in hit for hit in fields.values())
    assert "value" not in fields["diarienummer"] and fields["login_step"]["value"] == "2"


async def test_support_mail_waits_in_the_relay_while_the_database_is_away(
    services: Services,
) -> None:
    def away() -> Any:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError())

    mailbox = SupportQuestions(
        away,  # type: ignore[arg-type]
        services.settings,
        services.rules,
        default_words(),
        services.clock,
        services.key,
    )
    reply = await mailbox.deliver(question(KOMMUN, "Hej", "Kan inte logga in."), [KOMMUN], SENDER)
    assert reply.startswith("451 ")
