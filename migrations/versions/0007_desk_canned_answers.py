"""The desk's canned answers, seeded with texts drawn from the e-service's support page
(shared/seed): true when written; the admin API keeps them so.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import domain.sqltypes

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEED = {
    "behorighet-ser-inte-personen": (
        "Ser belopp men inte vilken person det gäller",
        "För att se fullständig information om utbetalade ersättningar i e-tjänsten krävs att "
        "du har rätt behörighet. Om du bara ser vissa poster, det vill säga diarienummer, "
        "belopp och vilken ersättning det avser, men inte vilken person det avser, har du inte "
        "rätt behörighet. Kontakta din administratör i kommunen.",
    ),
    "webblasare": (
        "Använd en annan webbläsare än Internet Explorer",
        "Vi rekommenderar att du väljer en annan webbläsare än Internet Explorer när du loggar "
        "in i Migrationsverkets e-tjänster för kommuner. E-tjänsterna fungerar inte längre "
        "optimalt med Internet Explorer, och fortsatt användning kan leda till att de inte "
        "fungerar helt korrekt. Orsaken är att Microsoft inte längre uppgraderar Internet "
        "Explorer.",
    ),
    "inloggning-tva-steg": (
        "Så fungerar inloggningens två steg",
        "Inloggningen sker i två steg. Det första steget är oförändrat: du väljer alternativet "
        "längst ner, E-tjänstelegitimation – SITHS. I det andra steget öppnas Ineras egen meny "
        "med tre alternativ: SITHS eID på denna enhet, SITHS eID på en annan enhet och "
        "SITHS-kort på denna enhet (Net iD). Förändringen påverkar inte innehållet i "
        "Migrationsverkets e-tjänster, bara hur du loggar in.",
    ),
    "inloggning-steg-1": (
        "Problem i första inloggningssteget",
        "Vid problem i det första inloggningssteget kontaktar du Migrationsverkets kontaktcenter "
        "via mejl. Bifoga en skärmbild med eventuellt meddelande, det underlättar felsökningen.\n"
        "Kommuner: etjanstkommuner@migrationsverket.se\n"
        "Regioner: halsoundersokningar-melker@migrationsverket.se",
    ),
    "inloggning-steg-2-siths": (
        "Problem i andra inloggningssteget (SITHS eID, SITHS, Net iD)",
        "Vid problem i det andra inloggningssteget med SITHS eID, SITHS eller Net iD kontaktar "
        "du i första hand din egen interna IT-supportenhet i kommunen eller regionen. I andra "
        "hand kontaktar du Ineras egen support: Felanmälan och användarstöd hos Inera.",
    ),
    "net-id-upphorde": (
        "SITHS-kort med Net iD upphörde 31 januari 2024",
        "Den gamla inloggningen med endast SITHS-kort (med Net iD), alternativet SITHS-kort på "
        "denna enhet, upphörde efter den 31 januari 2024, och Inera gav support angående "
        "Net iD till och med det datumet. Välj i stället SITHS eID på denna enhet eller på en "
        "annan enhet. Vid problem kontaktar du i första hand din egen IT-support och i andra "
        "hand Ineras support.",
    ),
    "informationstraffar": (
        "Digitala informationsträffar, manual och frågor och svar",
        "Migrationsverket genomför digitala informationsträffar om hur man ansöker om statlig "
        "ersättning via e-tjänsten. Som användare i kommun kan du anmäla dig till träffarna för "
        "att ta del av e-tjänstens olika funktioner och ställa frågor. På Migrationsverkets "
        "webbplats finns också användarmanualen för Ansök om statlig ersättning och frågor och "
        "svar om e-tjänsten.",
    ),
    "mejlnotifieringar": (
        "Mejlnotifieringar när något händer i en ansökan",
        "Du kan få mejl från e-tjänsten när något händer i en ansökan. Notifieringar skickas för "
        "de händelser som visas i fliken Notifieringar i e-tjänsten, och för de ersättningar "
        "som du har behörighet till. Aktivera detta i e-tjänsten under fliken Notifieringar.",
    ),
    "fyraveckorsperiod": (
        "Fyraveckorsperioder vid ansökan om utbildningskostnader",
        "Migrationsverkets föreskrift (MIGRF 2020:13) om statlig ersättning för asylsökande "
        "m.fl. anger vad som gäller om fyraveckorsperioder vid ansökan om ersättning för "
        "utbildningskostnader. Informationsbladet Förtydligande om fyraveckorsperiod finns för "
        "dig som arbetar inom kommunen med att ansöka om ersättning för barn eller elever i "
        "förskola eller skola.",
    ),
    "diarienummer-och-handlaggare": (
        "Ange diarienummer och handläggare (SEA och SEN)",
        "Mejla frågan till SEA (asylsökande), e-tjanst-statligersattning@migrationsverket.se, "
        "telefon 010-203 33 94, eller till SEN (nyanlända), "
        "statsbidragsfunktionen@migrationsverket.se, telefon 010-485 55 84. Telefonerna är "
        "öppna måndag–fredag 09.00–12.00. Ange Migrationsverkets diarienummer på ärendet om du "
        "har ett, och handläggaren om en redan är utsedd i ärendet.",
    ),
    "allmanna-fragor": (
        "Allmänna frågor och teknisk support: administratören",
        "Vid allmänna frågor om e-tjänsten eller behov av teknisk support kontaktar du "
        "administratören för Migrationsverkets e-tjänster i din kommun. Om administratören inte "
        "kan hjälpa dig kontaktar ni Migrationsverkets kontaktcenter på "
        "etjanstkommuner@migrationsverket.se.",
    ),
    "utanfor-etjansten": (
        "Frågor som inte gäller e-tjänsten",
        "Om din fråga inte gäller e-tjänsten eller en ersättning i e-tjänsten kan du läsa mer "
        "på Migrationsverkets sidor om statlig ersättning, där det framgår vart du ska vända "
        "dig med din fråga.",
    ),
}


def upgrade() -> None:
    table = op.create_table(
        "canned_answers",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", domain.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    now = datetime.now(UTC)
    rows = [
        {"id": key, "title": title, "text": text, "updated_at": now}
        for key, (title, text) in SEED.items()
    ]
    op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("canned_answers")
