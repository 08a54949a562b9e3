"""Compensation types (ersättningstyper) and event types: data in one place, with their
Swedish names. DOMAIN.md marks the type → unit map as an assumption, so it is data too."""

from dataclasses import dataclass
from enum import StrEnum


class Unit(StrEnum):
    """Migrationsverket's units for state compensation."""

    SEA = "sea"  # Statlig ersättning för asylsökande
    SEN = "sen"  # Statlig ersättning nyanlända


@dataclass(frozen=True, slots=True)
class CompensationType:
    code: str
    name: str
    unit: Unit
    without_application: bool = False


COMPENSATION_TYPES: dict[str, CompensationType] = {
    ct.code: ct
    for ct in (
        CompensationType(
            "fast-arlig-ensamkommande",
            "Fast årlig ersättning för asylsökande ensamkommande barn",
            Unit.SEA,
        ),
        CompensationType(
            "rorlig-arlig-ensamkommande",
            "Rörlig årlig ersättning för asylsökande ensamkommande barn",
            Unit.SEA,
        ),
        CompensationType(
            "anvisningsschablon-ensamkommande",
            "Anvisningsschablon för mottagande av anvisade asylsökande ensamkommande barn",
            Unit.SEA,
        ),
        CompensationType(
            "dygnsschablon-ensamkommande",
            "Dygnsschablon för asylsökande ensamkommande barn",
            Unit.SEA,
        ),
        CompensationType(
            "schablon-fordelningstal-massflykt",
            "Schablon enligt fördelningstal för ordnat boende för massflyktingar",
            Unit.SEA,
            without_application=True,
        ),
        CompensationType(
            "schablon-anvisad-ordnat-boende",
            "Schablon för anvisad till ordnat boende",
            Unit.SEA,
            without_application=True,
        ),
        CompensationType(
            "schablon-anvisade-barn",
            "Schablon för anvisade barn i ordnat boende",
            Unit.SEA,
            without_application=True,
        ),
        CompensationType(
            "schablon-anvisade-vuxna",
            "Schablon för anvisade vuxna i ordnat boende",
            Unit.SEA,
            without_application=True,
        ),
        CompensationType(
            "schablon-tidigare-ensamkommande",
            "Schablon för tidigare ensamkommande barn i ordnat boende",
            Unit.SEA,
            without_application=True,
        ),
        CompensationType(
            "ordnat-boende-massflykt",
            "Ersättning för ordnade boenden för personer som har fått uppehållstillstånd "
            "enligt massflyktsdirektivet",
            Unit.SEA,
        ),
    )
}


class PermissionLevel(StrEnum):
    """What a user may see of one compensation type. No grant at all means nothing."""

    SUMMARY = "summary"  # diarienummer, amount, which compensation: never which person
    FULL = "full"  # also which person the case concerns


EVENT_TYPES: dict[str, str] = {
    "application.submitted": "Ansökan har kommit in",
    "application.supplement_requested": "Komplettering begärd",
    "application.case_officer_assigned": "Handläggare utsedd",
    "application.message": "Nytt meddelande i ansökan",
    "application.decided": "Beslut fattat",
    "payment.disbursed": "Utbetalning gjord",
    "payment.automatic": "Schablonersättning utbetald",
    "service.announcement": "Aktuellt i e-tjänsten",
}
ANNOUNCEMENT = "service.announcement"
