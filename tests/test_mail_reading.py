"""The words → inquiry reader and the mail's route: pure functions, table-tested."""

from datetime import UTC, datetime
from importlib.resources import files

import pytest

from domain.organisations import OrganisationKind, organisations
from routing.decision.rules import default_rules
from routing.decision.schemas import Destination
from routing.reading.domains import (
    as_csv,
    domain_map,
    made_domains,
    organisation_of,
    usual_domains,
)
from routing.reading.mail_route import Mail, route_mail
from routing.reading.reader import read, segments
from routing.reading.words import WordsError, compile_term, default_words, fold, parse_words

NOW = datetime(2026, 3, 3, 10, tzinfo=UTC)
WORDS = default_words()


@pytest.mark.parametrize(
    ("subject", "text", "field", "value", "words"),
    [
        ("Inloggning", "I andra steget, Ineras meny, händer inget.", "login_step", "2",
         ["andra steget", "Ineras meny"]),
        ("", "Jag väljer E-tjänstelegitimation – SITHS längst ner", "login_step", "1",
         ["E-tjänstelegitimation", "längst ner"]),
        ("", "Net iD hittar inte kortet i kortläsaren", "login_method", "siths_card_netid",
         ["Net iD", "kortläsaren", "kortet"]),
        ("Utbetalning", "Vi saknar anvisningsschablonen", "compensation_type",
         "anvisningsschablon-ensamkommande", ["anvisningsschablonen"]),
        ("", "ärende dnr 1.1.3-2026-123456 gäller", "diarienummer", "1.1.3-2026-123456",
         ["1.1.3-2026-123456"]),
        ("", "Jag ser bara diarienummer och belopp", "issue_type", "permissions",
         ["diarienummer och belopp", "ser bara diarienummer och belopp"]),
        ("", "jag ser diarienr och belopp men inte namnen", "issue_type", "permissions",
         ["men inte namn"]),
        ("", "Sidan är vit i Internet Explorer", "browser",
         "Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko", ["Internet Explorer"]),
        ("", "Hur räknas fyraveckorsperioderna?", "issue_type", "education_periods",
         ["fyraveckorsperioderna"]),
        ("Notiser", "Jag får inga mejl när det kommer beslut", "issue_type", "notifications",
         ["får inga mejl när", "mejl när det", "Notiser"]),
    ],
)  # fmt: skip
def test_the_words_that_made_each_field(
    subject: str, text: str, field: str, value: str, words: list[str]
) -> None:
    found = read(WORDS, subject, text).fields[field]
    assert (found.value, list(found.words)) == (value, words)


def test_a_signature_says_nothing_of_the_question() -> None:
    text = "Jag ser inte personerna.\n\nMed vänlig hälsning\nAnna\nHandläggare\nMobil: 070-1"
    assert segments(text) == ["Jag ser inte personerna.\n"]
    fields = read(WORDS, "", text).fields
    assert "login_method" not in fields and fields["issue_type"].value == "permissions"


def test_the_persons_own_words_come_before_the_quoted_mail() -> None:
    text = "Gäller det rörlig årlig ersättning?\n\nDen 1 dec 2026 skrev SEA:\n> fast årlig"
    assert read(WORDS, "", text).value("compensation_type") == "rorlig-arlig-ensamkommande"


def test_a_forwarded_question_is_read_where_the_forward_says_nothing() -> None:
    text = "Se nedan.\n\n-------- Vidarebefordrat meddelande --------\nKan inte logga in i steg 1"
    reading = read(WORDS, "VB: hjälp", text)
    assert (reading.value("issue_type"), reading.value("login_step")) == ("login", "1")


@pytest.mark.parametrize(
    ("source", "text", "hit"),
    [
        ("logga in", "jag kan inte logga in", "logga in"),
        ("logga in", "inloggad", None),
        ("inlogg*", "Inloggningen", "Inloggningen"),
        ("*schablon*", "dygnsschablonen", "dygnsschablonen"),
        ("administratör* kan inte", "administratören kan inte", "administratören kan inte"),
        ("re:\\bie\\b", "i IE blir det fel", "IE"),
    ],
)
def test_terms_are_words_stems_parts_and_patterns(source: str, text: str, hit: str | None) -> None:
    found = compile_term(source, 1).pattern.search(fold(text))
    assert (text[found.start() : found.end()] if found else None) == hit


@pytest.mark.parametrize(
    ("mailbox", "subject", "text", "destination", "rule"),
    [
        # The words say nothing: the mailbox's own destination stands.
        ("mv_kontaktcenter_kommun", "Hej", "Se bifogat.", "mv_kontaktcenter_kommun", "mailbox"),
        # SEA's mailbox is about a compensation; a login problem at step two is still one.
        ("sea", "Fråga", "Har ni fått vår skrivelse?", "sea", "compensation-sea"),
        ("sea", "Hjälp", "Jag kommer inte in i e-tjänsten.", "mv_kontaktcenter_kommun",
         "login-step1-kommun"),
        ("sea", "Inloggning", "SITHS eID på annan enhet fungerar inte", "local_it", "login-step2"),
        # A login without a step, to the contact center: step one, as the page sends it.
        ("mv_kontaktcenter_kommun", "", "Kommer inte in", "mv_kontaktcenter_kommun",
         "login-step1-kommun"),
        # The administrator could not help: the page's second line.
        ("mv_kontaktcenter_kommun", "", "Felmeddelande i e-tjänsten. Vår administratör kan "
         "inte hjälpa.", "mv_kontaktcenter_kommun", "eservice-general/second-line"),
        ("mv_kontaktcenter_kommun", "", "Felmeddelande i e-tjänsten.", "local_admin",
         "eservice-general"),
    ],
)  # fmt: skip
def test_the_mailbox_is_evidence_where_the_words_are_silent(
    mailbox: str, subject: str, text: str, destination: str, rule: str
) -> None:
    mail = Mail(
        read(WORDS, subject, text),
        Destination(mailbox),
        "x@migrationsverket.se",
        organisation_of("a@stockholm.se"),
    )
    route = route_mail(mail, default_rules(), WORDS, NOW)
    assert (route.decision.primary.destination, route.decision.rule.id) == (destination, rule)
    assert route.decision_record()["rule"]["fields"] == {
        name: hit.as_dict() for name, hit in route.fields.items()
    }


@pytest.mark.parametrize(
    ("text", "screenshots", "missing"),
    [
        ("Dygnsschablon saknas", 0, ("diarienummer",)),
        ("Dygnsschablon saknas, dnr 1.1.3-2026-1234", 0, ()),
        ("Kan inte logga in i första steget", 0, ("screenshot",)),
        ("Kan inte logga in i första steget", 1, ()),
    ],
)
def test_what_the_rule_requires_and_the_mail_lacks(
    text: str, screenshots: int, missing: tuple[str, ...]
) -> None:
    mail = Mail(
        read(WORDS, "", text),
        Destination.SEA if "schablon" in text else Destination.MV_KONTAKTCENTER_KOMMUN,
        "x@migrationsverket.se",
        organisation_of("a@goteborg.se"),
        screenshots=screenshots,
    )
    assert route_mail(mail, default_rules(), WORDS, NOW).missing == missing


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("anna@goteborg.se", ("kommun", "1480")),
        ("a@socialtjansten.malmo.se", ("kommun", "1280")),
        ("a@upplandsvasby.se", ("kommun", "0114")),
        ("a@habokommun.se", ("kommun", "0643")),
        ("a@habo.se", ("kommun", "0305")),
        ("a@regionvarmland.se", ("region", "17")),
        ("a@vgregion.se", ("region", "14")),
        ("a@REGIONSKANE.SE", ("region", "12")),
        ("a@gmail.com", None),
        ("a@migrationsverket.se", None),
    ],
)
def test_the_organisation_from_the_senders_domain(
    address: str, expected: tuple[str, str] | None
) -> None:
    found = organisation_of(address)
    assert ((found.kind, found.code) if found else None) == expected


def test_every_kommun_and_region_has_a_domain_in_the_data_file() -> None:
    assert set(domain_map().values()) == set(organisations())
    shipped = files("routing.reading").joinpath("domains.csv").read_text("utf-8")
    assert shipped == as_csv(made_domains()), "remake it: python -m routing.reading.domains"
    assert "regionjamtlandharjedalen.se" in usual_domains(
        OrganisationKind.REGION, "Region Jämtland Härjedalen"
    )


@pytest.mark.parametrize(
    "table",
    [
        b'[[issue_type]]\nid = "x"\nvalue = "nonsense"\nstrong = ["a"]\n',
        b'[[issue_type]]\nid = "x"\nvalue = "login"\nstrong = ["re:("]\n',
        b'[mailbox.nowhere]\nissue_type = "login"\n',
    ],
)
def test_a_bad_words_table_fails_at_load(table: bytes) -> None:
    base = b'[diarienummer]\npatterns = []\n[escalate]\nid = "e"\n[screenshot]\nid = "s"\n'
    with pytest.raises(WordsError):
        parse_words(base + table)


@pytest.mark.parametrize(
    ("text", "mailbox", "destination"),
    [
        ("Jag har problem i det första inloggningssteget, jag väljer alternativet längst ner.",
         "mv_kontaktcenter_kommun", "mv_kontaktcenter_kommun"),
        ("Vid problem vid det andra inloggningssteget med SITHS eID, vad gör jag?",
         "mv_kontaktcenter_kommun", "local_it"),
        ("Den gamla inloggningen med endast SITHS-kort fungerar inte längre.",
         "mv_kontaktcenter_kommun", "local_it"),
        ("Jag ser endast vissa poster, diarienummer, belopp och vilken ersättning det avser.",
         "sea", "local_admin"),
        ("E-tjänsterna fungerar inte optimalt i min webbläsare Internet Explorer.",
         "mv_kontaktcenter_kommun", "self_service"),
        ("Vad gäller om fyraveckorsperioder vid ansökan om ersättning för utbildningskostnader?",
         "sea", "self_service"),
        ("Hur aktiverar jag mejlnotifieringar när något händer i en ansökan?",
         "mv_kontaktcenter_kommun", "self_service"),
        ("Jag vill anmäla mig till en digital informationsträff.", "sea", "self_service"),
        ("Min fråga avser inte e-tjänsten, vart ska jag vända mig?", "sea", "self_service"),
        ("Jag har en allmän fråga om e-tjänsten.", "mv_kontaktcenter_kommun", "local_admin"),
        ("Behöver teknisk support, administratören kan inte hjälpa mig.",
         "mv_kontaktcenter_kommun", "mv_kontaktcenter_kommun"),
        ("Fråga om dygnsschablon för asylsökande ensamkommande barn.", "sen", "sea"),
        ("Fråga om schablonersättning för nyanlända.", "sea", "sen"),
        ("Schablonersättningar enligt massflyktsdirektivet betalades inte ut för juni och juli.",
         "mv_kontaktcenter_kommun", "sea"),
    ],
)  # fmt: skip
def test_the_support_pages_own_sentences_as_mails(
    text: str, mailbox: str, destination: str
) -> None:
    mail = Mail(read(WORDS, "", text), Destination(mailbox), "x@migrationsverket.se",
                organisation_of("a@lund.se"))  # fmt: skip
    assert route_mail(mail, default_rules(), WORDS, NOW).decision.primary.destination == destination
