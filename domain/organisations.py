"""Kommuner and regioner: the only organisations that exist for the service.

The lists ship as package data (copied from the cross-checked files in ``shared/data``),
so the running service never reads outside its own installation.
"""

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, StringConstraints, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


class OrganisationKind(StrEnum):
    KOMMUN = "kommun"
    REGION = "region"


# The two kommuner whose own names do not follow the genitive rule of `Organisation.full_name`.
KOMMUN_NAMES = {"0980": "Region Gotland", "2080": "Falu kommun"}
# A name ending in one of these takes no genitive s: "Solna kommun", "Borås kommun".
NO_GENITIVE_S = frozenset("aeiouyåäösxz")


@dataclass(frozen=True, slots=True)
class Organisation:
    kind: OrganisationKind
    code: str
    name: str

    @property
    def full_name(self) -> str:
        """What the organisation calls itself: 'Stockholms kommun', 'Region Skåne' (a
        region's name in the data is already its full one), never only a place name."""
        if self.kind == OrganisationKind.REGION:
            return self.name
        if self.code in KOMMUN_NAMES:
            return KOMMUN_NAMES[self.code]
        genitive = "" if self.name[-1].lower() in NO_GENITIVE_S else "s"
        return f"{self.name}{genitive} kommun"


def _read(filename: str) -> list[dict[str, str]]:
    text = files("domain").joinpath("data", filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def organisations() -> dict[tuple[OrganisationKind, str], Organisation]:
    """Every kommun (by kommunkod) and region (by länskod), keyed by (kind, code)."""
    kommuner = [
        Organisation(OrganisationKind.KOMMUN, row["kommunkod"], row["namn"])
        for row in _read("kommuner.csv")
    ]
    regioner = [
        Organisation(OrganisationKind.REGION, row["lanskod"], row["namn"])
        for row in _read("regioner.csv")
    ]
    return {(org.kind, org.code): org for org in kommuner + regioner}


def find_organisation(kind: str, code: str) -> Organisation | None:
    try:
        return organisations().get((OrganisationKind(kind), code))
    except ValueError:
        return None


def organisation_name(
    ref: "OrganisationRef | Mapping[str, str] | None", *, with_code: bool = False
) -> str | None:
    """'Stockholms kommun' for the kommun or region `ref` names, as a model or as stored JSON.

    No ref, or one that names nothing: None, for the caller to say what its reader sees
    instead. with_code, as a forward to a mailbox shows it: 'Stockholms kommun (0180)', and for a
    ref that names nothing its kind and code ('kommun 9999'), the only facts there are."""
    if ref is None:
        return None
    kind: str
    if isinstance(ref, OrganisationRef):
        kind, code = ref.kind, ref.code
    else:
        kind, code = ref.get("kind", ""), ref.get("code", "")
    found = find_organisation(kind, code)
    if not with_code:
        return found.full_name if found else None
    return f"{found.full_name} ({code})" if found else f"{kind} {code}"


_KINDS = frozenset(kind.value for kind in OrganisationKind)


def organisation_error(kind: str, code: str) -> str | None:
    """A Swedish explanation of why (kind, code) names no organisation, or None if it does."""
    # Asked once per event consumed: the plain lookup first (a StrEnum hashes as its value).
    if (kind, code) in organisations():
        return None
    if kind not in _KINDS:
        return "Organisationstyp måste vara 'kommun' eller 'region'."
    if find_organisation(kind, code) is not None:
        return None
    if kind == OrganisationKind.KOMMUN:
        return f"'{code}' är ingen kommunkod (fyra siffror, t.ex. 0180 för Stockholm)."
    return f"'{code}' är ingen länskod för en region (två siffror, t.ex. 01 för Region Stockholm)."


_CODE_PATTERNS = {OrganisationKind.KOMMUN: r"^\d{4}$", OrganisationKind.REGION: r"^\d{2}$"}


def _kind_schema(kind: OrganisationKind, pattern: str) -> dict[str, Any]:
    codes = sorted(code for known, code in organisations() if known == kind)
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "code"],
        "properties": {
            "kind": {"const": kind.value},
            "code": {"type": "string", "pattern": pattern, "enum": codes},
        },
    }


class OrganisationRef(BaseModel):
    """`{"kind": "kommun", "code": "0180"}` as the API and events carry it; only real
    organisations validate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: OrganisationKind
    code: Annotated[str, StringConstraints(pattern=r"^\d{2}(\d{2})?$")]

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """One alternative per kind, with its code's pattern and the codes that exist: what
        the schema allows, the validator accepts (issue 10, #17)."""
        return {
            "title": cls.__name__,
            "description": "En kommun (kommunkod, fyra siffror) eller region (länskod, två).",
            "oneOf": [_kind_schema(kind, pattern) for kind, pattern in _CODE_PATTERNS.items()],
        }

    @model_validator(mode="after")
    def _exists(self) -> Self:
        if error := organisation_error(self.kind, self.code):
            raise ValueError(error)
        return self
