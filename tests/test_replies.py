"""What of an emailed reply is the person's own, which messages are automatic, and which
addresses name a ticket: pure functions, table-tested."""

from email import message_from_string, policy
from email.message import EmailMessage

import pytest

from notifier.inbound.mail import automatic
from routing.ticketing.replies import reference_of, reply_address, reply_text

OWN = frozenset({"no-reply@statlig-ersattning.invalid"})


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        ("Tack, nu fungerar det.", "Tack, nu fungerar det."),
        ("Ny fråga.\n\nDen 3 mars 2026 kl. 10:15 skrev Migrationsverket:\n> Hej!", "Ny fråga."),
        ("Yes.\r\n\r\nOn Tue, 3 Mar 2026, Migrationsverket wrote:\r\n> Hello", "Yes."),
        ("Se bild.\n\nFrån: Migrationsverket <no-reply@x>\nSkickat: i dag", "Se bild."),
        ("Hej\n-----Ursprungligt meddelande-----\nGammalt", "Hej"),
        ("Mvh Anna\n-- \nAnna Berg\nStockholms stad", "Mvh Anna"),
        ("Ok\n\nSkickat från min iPhone", "Ok"),
        ("Första\n> citerad rad\nAndra", "Första\nAndra"),
        ("> bara citat", ""),
    ],
)
def test_a_reply_keeps_only_the_persons_own_words(body: str, kept: str) -> None:
    assert reply_text(body) == kept


KEY = b"k" * 32
SIGNED = reply_address("SUP-7K3M9QX2", key=KEY, domain="svar.example.se").partition("@")[0]


@pytest.mark.parametrize(
    ("local", "reference"),
    [
        (SIGNED, "SUP-7K3M9QX2"),
        (SIGNED.upper(), "SUP-7K3M9QX2"),  # a relay changed the case
        ("svar+SUP-7K3M9QX2", None),  # the reference alone is guessable: it names nothing
        (SIGNED[:-1] + ("a" if SIGNED[-1] != "a" else "b"), None),
        (SIGNED.replace("7k3m9qx2", "7k3m9qx3"), None),  # another ticket, the same MAC
        (SIGNED + "a", None),
        ("info+" + SIGNED.partition("+")[2], None),
        ("svar", None),
    ],
)
def test_only_svar_plus_a_signed_token_names_a_ticket(local: str, reference: str | None) -> None:
    assert reference_of(local, key=KEY) == reference


def test_a_reply_address_is_signed_with_the_services_key() -> None:
    assert reference_of(SIGNED, key=b"x" * 32) is None
    assert len(SIGNED.partition(".")[2]) == 20  # 100 bits


def mail(**headers: str) -> EmailMessage:
    fields = {"From": "anna.berg@stockholm.se", "Subject": "Re: Svar på din fråga"} | headers
    text = "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in fields.items()) + "\nHej\n"
    message = message_from_string(text, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.parametrize(
    ("headers", "mail_from", "why"),
    [
        ({}, "anna.berg@stockholm.se", None),
        ({"Auto_Submitted": "no"}, "anna.berg@stockholm.se", None),
        ({"Auto_Submitted": "auto-replied"}, "anna.berg@stockholm.se", "Auto-Submitted"),
        ({"X_Autoreply": "yes"}, "anna.berg@stockholm.se", "X-Autoreply"),
        ({"Precedence": "bulk"}, "anna.berg@stockholm.se", "Precedence"),
        ({"Precedence": "auto_reply"}, "anna.berg@stockholm.se", "Precedence"),
        ({"Subject": "Frånvaromeddelande: Re: Svar"}, "anna.berg@stockholm.se", "subject"),
        ({"Subject": "Automatic reply: Svar"}, "anna.berg@stockholm.se", "subject"),
        ({}, "", "bounce"),
        ({}, "<>", "bounce"),  # the null sender as aiosmtpd hands it over
        ({"Subject": "SV: Automatiskt svar: Svar på din fråga"}, "a@b.se", "subject"),
        ({"Subject": "Undelivered Mail Returned to Sender"}, "a@b.se", "subject"),
        ({"From": "MAILER-DAEMON@mx1.stockholm.se"}, "a@b.se", "mail system"),
        ({"Subject": "SV: Ny fråga om automatiskt svar"}, "anna.berg@stockholm.se", None),
        ({"From": "no-reply@statlig-ersattning.invalid"}, "x@y.se", "our own"),
    ],
)
def test_automatic_messages_are_recognised(
    headers: dict[str, str], mail_from: str, why: str | None
) -> None:
    found = automatic(mail(**headers), mail_from, OWN)
    assert (found is None) if why is None else (found is not None and why in found)
